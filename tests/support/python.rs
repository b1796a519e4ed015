//! The Python runs of the differential tests, in one place: the released
//! CLI's Python (the interoperability venv) and the reference scripts in
//! `tests/reference/`. Compiled into the core's tests (`mod support`) and
//! the wasmtime host's (`tests/common`), so both find the same files from
//! either crate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root, from the crate that compiles this file.
pub fn repo_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("wit/tracker.wit").exists() {
        assert!(
            dir.pop(),
            "no wit/tracker.wit above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

/// The Python of the interoperability venv (`make cli-venv`): spec-kitty-cli
/// 2.1.3 and its pinned dependencies, Python 3.11; `TRACKER_PUBLISH_CLI_PYTHON`
/// overrides.
pub fn cli_python() -> PathBuf {
    let p = std::env::var_os("TRACKER_PUBLISH_CLI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/cli-venv/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: run `make cli-venv` (make test does), or set TRACKER_PUBLISH_CLI_PYTHON",
        p.display()
    );
    p
}

/// Runs `tests/reference/<script> ARGS...` with the CLI's Python and returns
/// its JSON lines.
pub fn reference_lines(script: &str, args: &[&std::ffi::OsStr]) -> Vec<serde_json::Value> {
    let path = repo_root().join("tests/reference").join(script);
    let out = Command::new(cli_python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("the reference writes UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("the reference writes JSON lines"))
        .collect()
}

/// Runs `tests/reference/<script> SEED N DIR`: one JSON line per generated
/// case, files written under `dir`.
pub fn reference_cases(script: &str, seed: &str, n: &str, dir: &Path) -> Vec<serde_json::Value> {
    reference_lines(script, &[seed.as_ref(), n.as_ref(), dir.as_os_str()])
}
