//! `make demo` runs host-examples/demo/demo.sh; so does this test, so the
//! README's first command is checked by `make test`.

#[test]
fn the_demo_publishes_retries_and_sees_a_duplicate() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/demo.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_tracker-publish"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    assert!(err.contains("the server answered 503; retrying"), "{err}");
    assert!(text.contains("\"attempts\": 2"), "{text}");
    assert!(text.contains("\"duplicate\": true"), "{text}");
    assert!(text.contains("jira_project"), "{text}");
    assert!(
        !text.contains("demo-token-123") && !err.contains("demo-token-123"),
        "token shown"
    );
}
