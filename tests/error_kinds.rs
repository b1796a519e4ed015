//! Every list of error kinds in the tree, checked against the WIT
//! `error-kind` enum (`wit/tracker.wit`), the one source: the core's
//! `ErrorKind`, the component's and the wasmtime host's mappings, the
//! Python package, the Node package's types and code, the browser build's
//! types. The kinds only a host that sends raises (`network-error`,
//! `timeout`) are listed once, in the README's "Error kinds", and nowhere
//! may a kind appear that is neither.

use std::path::Path;

use tracker_publish::ErrorKind;

/// Raised by hosts that send (Node and Python `publish`), never by the
/// component; documented in the README's "Error kinds".
const HOST_ONLY: [&str; 2] = ["network-error", "timeout"];

/// In the WIT enum (whose 0.1.0 variants never change in place) but raised
/// only by a host that reads a project's files: the wasmtime host's own
/// `ErrorKind`, not the core's.
const FILE_HOST: [&str; 4] = [
    "invalid-config",
    "invalid-credentials",
    "store-missing",
    "invalid-store",
];

/// The WIT kinds the core (and so the component) raises.
fn core_kinds() -> Vec<String> {
    wit_kinds()
        .into_iter()
        .filter(|k| !FILE_HOST.contains(&k.as_str()))
        .collect()
}

fn read(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The text between `start` (exclusive) and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str, file: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{file}: no {start:?}"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{file}: no {end:?} after {start:?}"));
    &text[from..from + len]
}

/// Every `q`-quoted literal in `text`, in order.
fn literals(text: &str, q: char) -> Vec<String> {
    text.split(q)
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn wit_kinds() -> Vec<String> {
    let wit = read("wit/tracker.wit");
    between(&wit, "enum error-kind {", "}", "wit/tracker.wit")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect()
}

fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn the_wit_enum_has_the_contract_kinds() {
    assert_eq!(wit_kinds().len(), 10, "{:?}", wit_kinds());
}

#[test]
fn core_error_kind_is_the_wit_enum_less_the_file_host_kinds() {
    let core: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(core, core_kinds());
    for k in FILE_HOST {
        assert!(wit_kinds().iter().any(|w| w == k), "{k} is not in the WIT");
        assert_eq!(ErrorKind::from_name(k), None, "{k} is in the core");
    }
    for k in ErrorKind::ALL {
        assert_eq!(ErrorKind::from_name(k.as_str()), Some(k));
    }
}

/// `arrow`-separated match arms, one per kind of `kinds`, and no other.
fn check_mapping(file: &str, kinds: Vec<String>, arm: impl Fn(&str) -> String, marker: &str) {
    let text = read(file);
    for k in &kinds {
        let a = arm(&camel(k));
        assert!(text.contains(&a), "{file}: no arm {a:?} for {k}");
    }
    assert_eq!(
        text.matches(marker).count(),
        kinds.len(),
        "{file}: {marker:?} arms are not one per WIT kind"
    );
}

#[test]
fn the_component_maps_every_kind() {
    check_mapping(
        "src/component.rs",
        core_kinds(),
        |c| format!("ErrorKind::{c} => wit::ErrorKind::{c},"),
        "=> wit::ErrorKind::",
    );
}

#[test]
fn the_wasmtime_host_maps_every_kind() {
    // Every WIT kind, to the core's kind or to one of the host's file kinds.
    check_mapping(
        "host-examples/wasmtime/src/publisher.rs",
        wit_kinds(),
        |c| {
            if FILE_HOST.iter().any(|k| camel(k) == c) {
                format!("wit::ErrorKind::{c} => ErrorKind::{c},")
            } else {
                format!("wit::ErrorKind::{c} => Core::{c}.into(),")
            }
        },
        "wit::ErrorKind::",
    );
}

#[test]
fn the_wasmtime_host_kinds_are_the_file_host_kinds() {
    let file = "host-examples/wasmtime/src/error.rs";
    let text = read(file);
    let names = literals(
        between(&text, "pub const FILE_HOST_NAMES: [&str; 4] = [", "]", file),
        '"',
    );
    assert_eq!(
        names,
        FILE_HOST.map(str::to_owned),
        "{file}: FILE_HOST_NAMES"
    );
}

#[test]
fn python_error_kinds_is_the_wit_enum() {
    let file = "host-examples/python/src/tracker_publish/__init__.py";
    let text = read(file);
    let kinds = literals(between(&text, "ERROR_KINDS = (", ")", file), '"');
    assert_eq!(kinds, wit_kinds(), "{file}: ERROR_KINDS");
}

/// Every kind a host file raises is a WIT kind or a host-only one.
fn raised_kinds_are_known(file: &str, call: &str, q: char) {
    let text = read(file);
    let known: Vec<String> = wit_kinds()
        .into_iter()
        .chain(HOST_ONLY.map(str::to_owned))
        .collect();
    for piece in text.split(call).skip(1) {
        let Some(rest) = piece.strip_prefix(q) else {
            continue; // a variable kind, e.g. `PublishError(kind, ...)`
        };
        let kind = rest.split(q).next().unwrap_or_default();
        assert!(
            known.iter().any(|k| k == kind),
            "{file}: raises {kind:?}, neither a WIT kind nor host-only"
        );
    }
}

#[test]
fn python_raises_only_known_kinds() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("host-examples/python/src/tracker_publish");
    for e in std::fs::read_dir(&dir).expect("the Python package") {
        let path = e.expect("a directory entry").path();
        if path.extension().is_some_and(|x| x == "py") {
            let rel = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .expect("inside the repository")
                .to_string_lossy()
                .into_owned();
            raised_kinds_are_known(&rel, "PublishError(", '"');
        }
    }
}

#[test]
fn node_error_kind_type_is_the_wit_enum_then_the_host_only_kinds() {
    let file = "host-examples/node/src/index.d.ts";
    let text = read(file);
    let union = between(&text, "export type ErrorKind =", ";", file);
    let expected: Vec<String> = wit_kinds()
        .into_iter()
        .chain(HOST_ONLY.map(str::to_owned))
        .collect();
    assert_eq!(literals(union, '\''), expected, "{file}: ErrorKind");
}

#[test]
fn node_raises_only_known_kinds() {
    let file = "host-examples/node/src/index.js";
    raised_kinds_are_known(file, "PublishError(", '\'');
    let text = read(file);
    for k in HOST_ONLY {
        assert!(
            text.contains(&format!("'{k}'")),
            "{file}: does not raise {k}"
        );
    }
}

#[test]
fn the_browser_types_are_the_core_kinds() {
    let file = "src/web.rs";
    let text = read(file);
    let union = between(&text, "kind:", ";", file);
    assert_eq!(
        literals(union, '"'),
        core_kinds(),
        "{file}: PublishError.kind"
    );
}

#[test]
fn host_only_kinds_are_documented_once() {
    let readme = read("README.md");
    let section = between(&readme, "### Error kinds", "\n#", "README.md");
    for k in wit_kinds().iter().map(String::as_str).chain(HOST_ONLY) {
        assert!(
            section.contains(&format!("`{k}`")),
            "README.md, Error kinds: {k} missing"
        );
    }
}
