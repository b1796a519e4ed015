//! The stored-row rules of project-state.md against the real thing:
//! timestamps and `str.isdigit` against Python 3.11, whole issue rows against
//! the released CLI's own conversion code (spec-kitty-cli 2.1.3, in the
//! interoperability virtual environment `make cli-venv` creates).

use std::process::Command;

use tracker_publish::{
    ErrorKind, IssueSnapshot, PublishOptions, SnapshotInput, build_snapshot_payload,
    issue_from_stored_row, stored_timestamp,
};

mod support;

use support::python::{cli_python, reference_lines};

fn reference(args: &[&str]) -> Vec<serde_json::Value> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    reference_lines("stored_rows.py", &args)
}

#[test]
fn python_is_3_11() {
    let out = Command::new(cli_python())
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.starts_with("Python 3.11."),
        "the CLI's Python is 3.11, found {v}"
    );
}

#[test]
fn timestamps_equal_python_fromisoformat_isoformat() {
    let cases = reference(&["timestamps", "7", "30000"]);
    assert!(cases.len() > 30000);
    let (mut parsed, mut failures) = (0, Vec::new());
    for c in &cases {
        let s = c["s"].as_str().unwrap();
        let want = c["iso"].as_str();
        let blank = s.chars().all(tracker_publish::normalize::is_py_whitespace);
        let got = stored_timestamp(Some(s));
        // The CLI checks `value.strip()` first; fromisoformat never accepts
        // a blank string anyway.
        let want = if blank { None } else { want };
        parsed += usize::from(want.is_some());
        if got.as_deref() != want {
            failures.push(format!("{s:?}: python {want:?}, ours {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(40)].join("\n")
    );
    assert!(parsed > 3000, "too few parsable cases: {parsed}");
}

/// One issue as the body carries it.
fn issue_json(issue: IssueSnapshot<'_>) -> String {
    let input = SnapshotInput {
        server_url: "https://example.com".into(),
        provider: "jira".into(),
        workspace: "w".into(),
        issues: vec![issue],
        ..Default::default()
    };
    let body = String::from_utf8(
        build_snapshot_payload(&input, &PublishOptions::default())
            .unwrap()
            .body,
    )
    .unwrap();
    let start = body.find(",\"issues\":[").unwrap() + ",\"issues\":[".len();
    let end = body.rfind("],\"mappings\":[]").unwrap();
    body[start..end].to_owned()
}

#[test]
fn issue_rows_equal_the_cli_or_are_refused_where_it_fails() {
    let rows = reference(&["rows", "11", "8000"]);
    let (mut same, mut refused, mut failures) = (0, 0, Vec::new());
    for (i, r) in rows.iter().enumerate() {
        let payload = r["payload"].as_str().unwrap();
        let cli = r["cli"].as_str();
        let garbled = !r["garbled"].as_array().unwrap().is_empty();
        match issue_from_stored_row("row", payload) {
            Ok(issue) => {
                let ours = issue_json(issue);
                if garbled || cli != Some(ours.as_str()) {
                    failures.push(format!(
                        "#{i} {payload}\n  cli {cli:?} garbled {}\n  ours {ours}",
                        r["garbled"]
                    ));
                } else {
                    same += 1;
                }
            }
            Err(e) => {
                assert!(matches!(
                    e.kind(),
                    ErrorKind::InvalidStoreRow | ErrorKind::TooLarge
                ));
                assert!(
                    e.message()
                        .starts_with("tracker_issues row \"row\": payload"),
                    "{}",
                    e.message()
                );
                if cli.is_some() && !garbled {
                    failures.push(format!(
                        "#{i} {payload}\n  cli publishes {cli:?}\n  we refuse: {}",
                        e.message()
                    ));
                } else {
                    refused += 1;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        rows.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        same > 1000 && refused > 1000,
        "too few of one side: {same} same, {refused} refused"
    );
}

#[test]
fn isdigit_table_equals_python() {
    let r = reference(&["isdigit"]);
    let ranges: Vec<(u32, u32)> = r[0]["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap() as u32, p[1].as_u64().unwrap() as u32))
        .collect();
    let python = |c: u32| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c));
    // Through the public rule: a one-character priority string is refused
    // exactly when Python calls it a digit and it is not ASCII (or it is an
    // ASCII digit above 4, out of the model's range).
    for c in (0..0x110000u32).filter_map(char::from_u32) {
        let payload = serde_json::json!({"ref": {"system": "s", "workspace": "w", "id": "1"}, "priority": c.to_string()}).to_string();
        let refused = issue_from_stored_row("r", &payload).is_err();
        let out_of_range = ('5'..='9').contains(&c);
        assert_eq!(
            refused,
            (python(c as u32) && !c.is_ascii_digit()) || out_of_range,
            "U+{:04X}",
            c as u32
        );
    }
}
