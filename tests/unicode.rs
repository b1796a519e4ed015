//! Lower-casing as Python 3.11 does it (Unicode 14.0, contract section 2),
//! checked against Python 3.11 itself: the committed tables are what
//! `tools/gen_lowercase.py` prints, every code point lower-cases as
//! `str.lower` does, alone and before and after a `Σ`, and a provider
//! holding a code point unassigned in Unicode 14.0 is refused.
//!
//! Needs `python3` 3.11 (Unicode 14.0.0) on the PATH, or
//! `TRACKER_PUBLISH_PYTHON311`.

use std::process::Command;

use tracker_publish::normalize::{first_unassigned, py_lower};
use tracker_publish::{ErrorKind, PublishOptions, build_snapshot_payload_json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn python() -> Command {
    let exe = std::env::var("TRACKER_PUBLISH_PYTHON311").unwrap_or_else(|_| "python3".into());
    let mut c = Command::new(exe);
    c.current_dir(ROOT);
    c
}

/// Runs Python code; its standard output.
fn run(args: &[&str]) -> String {
    let out = python()
        .args(args)
        .output()
        .expect("python3 (3.11) is needed for this test");
    assert!(
        out.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn python_is_3_11_with_unicode_14() {
    let v = run(&[
        "-c",
        "import sys, unicodedata; print(sys.version_info[:2], unicodedata.unidata_version)",
    ]);
    assert_eq!(
        v.trim(),
        "(3, 11) 14.0.0",
        "python3 must be 3.11 (the CLI's lowest)"
    );
}

#[test]
fn the_tables_are_what_the_script_prints() {
    let printed = run(&["tools/gen_lowercase.py"]);
    let committed = std::fs::read_to_string(format!("{ROOT}/src/lowercase_tables.rs")).unwrap();
    assert!(
        printed == committed,
        "src/lowercase_tables.rs is not what `python3 tools/gen_lowercase.py` prints: regenerate it"
    );
}

/// Python's answers for every code point but the surrogates, one line each:
/// `cp lower(c) lower("A"+c+"Σ") lower("AΣ"+c+"B") unassigned`, the strings
/// as hex code points joined by `.`.
const EXPECT: &str = r#"
import sys, unicodedata
def h(s): return ".".join("%x" % ord(ch) for ch in s)
out = []
for cp in range(0x110000):
    if 0xD800 <= cp < 0xE000:
        continue
    c = chr(cp)
    out.append("%x %s %s %s %d" % (cp, h(c.lower()), h(("A" + c + "\u03a3").lower()),
               h(("A\u03a3" + c + "B").lower()), unicodedata.category(c) == "Cn"))
sys.stdout.write("\n".join(out) + "\n")
"#;

fn unhex(s: &str) -> String {
    s.split('.')
        .map(|h| char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap())
        .collect()
}

#[test]
fn every_code_point_as_python_3_11() {
    let expected = run(&["-c", EXPECT]);
    let (mut n, mut failures) = (0, Vec::new());
    for line in expected.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let cp = u32::from_str_radix(f[0], 16).unwrap();
        let c = char::from_u32(cp).unwrap();
        n += 1;
        let contexts = [
            (c.to_string(), unhex(f[1])),
            (format!("A{c}Σ"), unhex(f[2])),
            (format!("AΣ{c}B"), unhex(f[3])),
        ];
        for (input, want) in contexts {
            let got = py_lower(&input);
            if got != want {
                failures.push(format!(
                    "U+{cp:04X} in {input:?}: python {want:?}, ours {got:?}"
                ));
            }
        }
        let unassigned = f[4] == "1";
        if first_unassigned(&c.to_string()).is_some() != unassigned {
            failures.push(format!(
                "U+{cp:04X}: unassigned in 14.0 is {unassigned} in Python"
            ));
        }
    }
    assert_eq!(n, 0x110000 - 0x800, "one line per code point");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

fn input(provider: &str) -> String {
    serde_json::json!({
        "server_url": "https://example.com", "auth_token": null, "provider": provider,
        "workspace": "w", "doctrine_mode": null, "doctrine_field_owners": {},
        "credentials": {}, "project_uuid": null, "project_slug": null,
        "issues": [], "mappings": [], "checkpoint": null,
    })
    .to_string()
}

#[test]
fn a_provider_with_a_code_point_unassigned_in_unicode_14_is_refused() {
    // Some of the 55 characters the issue found (lower-cased by Python 3.12
    // to 3.14, not by 3.11; all unassigned in 14.0), and other unassigned
    // ones: a noncharacter, the last code point, a tag-block hole.
    let refused = [
        0x1C89, 0xA7CB, 0xA7CC, 0xA7DC, 0x10D50, 0x10D65, 0x16EA0, 0x16EB8, 0x378, 0xFFFF,
        0x10FFFF, 0xE0000,
    ];
    for cp in refused {
        let c = char::from_u32(cp).unwrap();
        let e =
            build_snapshot_payload_json(&input(&format!(" Jira{c} ")), &PublishOptions::default())
                .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "U+{cp:04X}");
        let code = format!("U+{cp:04X}");
        assert!(
            e.message().starts_with("provider: ") && e.message().contains(&code),
            "U+{cp:04X}: {}",
            e.message()
        );
    }
    // Assigned characters, however exotic, are lower-cased as Python does.
    for (p, want) in [
        ("İ", "i\u{307}"),
        ("ΑΣ", "ας"),
        ("\u{A7D0}", "\u{A7D1}"),
        ("\u{10FFFD}", "\u{10FFFD}"),
    ] {
        let r = build_snapshot_payload_json(&input(p), &PublishOptions::default()).unwrap();
        let body = String::from_utf8(r.body).unwrap();
        assert!(
            body.starts_with(&format!("{{\"provider\":\"{want}\"")),
            "{p:?}: {body}"
        );
    }
}
