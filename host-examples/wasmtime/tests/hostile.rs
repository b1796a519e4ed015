//! Hostile inputs through the real command: each gets its refusal kind, exit
//! code 2 and a message naming the field; the process never aborts and never
//! repeats a secret.

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_tracker-publish");

fn base() -> Value {
    vectors::cases().remove(0).input
}

/// Runs `preview --show-secrets` on `stdin`; returns (exit code, error kind, message).
fn refused(stdin: &[u8]) -> (Option<i32>, String, String, String) {
    let mut child = Command::new(BIN)
        .args(["preview", "--show-secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout not JSON ({e}): {stdout}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.status.code(),
        v["error"]["kind"].as_str().unwrap_or_default().to_owned(),
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        stderr,
    )
}

fn expect(stdin: &[u8], kind: &str, names: &str, secret: Option<&str>) {
    let (code, k, message, stderr) = refused(stdin);
    assert_eq!(
        code,
        Some(2),
        "{message} for {}",
        String::from_utf8_lossy(stdin)
    );
    assert_eq!(k, kind, "{message}");
    assert!(
        message.contains(names),
        "message does not name {names:?}: {message}"
    );
    if let Some(secret) = secret {
        assert!(
            !message.contains(secret) && !stderr.contains(secret),
            "secret leaked: {message} / {stderr}"
        );
    }
}

#[test]
fn server_urls_that_are_not_http_are_refused() {
    for url in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com",
        "example.com",
        "https://",
        "http://exa mple.com",
        "https://example.com\r\nX-Evil: 1",
    ] {
        let mut v = base();
        v["server_url"] = json!(url);
        expect(
            v.to_string().as_bytes(),
            "invalid-server-url",
            "server_url",
            None,
        );
    }
}

#[test]
fn credentials_in_the_server_url_are_refused_and_not_repeated() {
    for url in [
        "https://ana:hunter2-secret@example.com",
        "https://hunter2-secret@example.com/x",
    ] {
        let mut v = base();
        v["server_url"] = json!(url);
        expect(
            v.to_string().as_bytes(),
            "invalid-server-url",
            "server_url",
            Some("hunter2-secret"),
        );
    }
}

#[test]
fn tokens_that_are_not_visible_ascii_are_refused_and_not_repeated() {
    for token in [
        "secret\r\nX-Evil: 1",
        "secret token",
        "secret\ttoken",
        "secrét-token",
        "secret\u{0}token",
        " secret-token",
    ] {
        let mut v = base();
        v["auth_token"] = json!(token);
        expect(
            v.to_string().as_bytes(),
            "invalid-auth-token",
            "auth_token",
            Some("secret"),
        );
        // A credential token is stripped first (as the CLI does), so only inner
        // characters can make it invalid there.
        if token.trim() == token {
            let mut v = base();
            v["auth_token"] = Value::Null;
            v["credentials"]["access_token"] = json!(token);
            expect(
                v.to_string().as_bytes(),
                "invalid-auth-token",
                "access_token",
                Some("secret"),
            );
        }
    }
}

#[test]
fn malformed_and_truncated_json_is_invalid_input() {
    let full = base().to_string();
    for cut in [1, 10, full.len() / 2, full.len() - 1] {
        expect(
            &full.as_bytes()[..cut],
            "invalid-input",
            "malformed JSON",
            None,
        );
    }
    expect(b"", "invalid-input", "input", None);
    expect(b"[]", "invalid-input", "input", None);
    // The object is read first: its missing fields are named before the extra text.
    expect(b"{} {}", "invalid-input", "server_url", None);
    let text = format!("{full} {{}}");
    expect(
        text.as_bytes(),
        "invalid-input",
        "unexpected characters after the input object",
        None,
    );
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let mut v = base();
    v["project_slug"] = json!("x");
    let deep = format!("{}1{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let text = v.to_string().replacen("\"x\"", &deep, 1);
    expect(text.as_bytes(), "too-large", "project_slug", None);
    expect(text.as_bytes(), "too-large", "MAX_NESTING_DEPTH", None);
}

#[test]
fn huge_strings_are_too_large() {
    let mut v = base();
    v["issues"] = json!([{
        "ref": {"system": "jira", "workspace": "w", "id": "1", "key": null, "url": null},
        "title": "t".repeat(5 << 20), "body": null, "status": "todo", "issue_type": "task",
        "priority": null, "assignees": [], "labels": [], "updated_at": null
    }]);
    expect(
        v.to_string().as_bytes(),
        "too-large",
        "issues[0].title",
        None,
    );
}

#[test]
fn lone_surrogates_nul_and_invalid_utf8() {
    let text = base()
        .to_string()
        .replacen("\"acme.atlassian.net\"", "\"\\ud800\"", 1);
    expect(text.as_bytes(), "invalid-input", "workspace", None);
    let text = base()
        .to_string()
        .replacen("\"acme.atlassian.net\"", "\"a\u{0}b\"", 1);
    expect(text.as_bytes(), "invalid-input", "malformed JSON", None);
    let mut bytes = base().to_string().into_bytes();
    bytes.insert(5, 0xff);
    expect(&bytes, "invalid-input", "UTF-8", None);
}

#[test]
fn wrong_types_and_repeated_keys_name_the_field() {
    let mut v = base();
    v["credentials"]["project_key"] = json!(7);
    expect(
        v.to_string().as_bytes(),
        "invalid-input",
        "credentials",
        None,
    );
    let mut v = base();
    v["issues"] = json!("not a list");
    expect(v.to_string().as_bytes(), "invalid-input", "issues", None);
    let text = base()
        .to_string()
        .replacen("{", "{\"provider\":\"linear\",", 1);
    expect(text.as_bytes(), "invalid-input", "provider", None);
}
