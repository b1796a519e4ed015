//! `publish` against `serve`: both sides of the contract, the real commands,
//! HTTP over 127.0.0.1. Retries under one key, the receiver's idempotency
//! (replay, 422 on an edited snapshot under a v1 key, 409 while a key is in
//! flight), its token, and its fault injection.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use common::{BIN, Fixture, derived_store_path};

const CONFIG: &str = "tracker:\n  provider: jira\n  workspace: acme.atlassian.net\n";
const CREDS: &str =
    "[tracker.providers.jira]\nproject_key = \"ACME\"\naccess_token = \"serve-token-7\"\n";

fn row(title: &str) -> String {
    format!(
        r#"{{"ref":{{"system":"jira","workspace":"acme.atlassian.net","id":"1"}},"title":"{title}","status":"todo"}}"#
    )
}

/// A running `tracker-publish serve`, killed when dropped.
struct Serve {
    child: Child,
    url: String,
    _data: common::TempDir,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let data = common::TempDir::new();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--retry-after",
                "0",
                "--data",
            ])
            .arg(data.path())
            .args(args)
            .env_remove("TRACKER_PUBLISH_SERVE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        Serve {
            child,
            url,
            _data: data,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project(title: &str) -> (Fixture, std::path::PathBuf) {
    let f = Fixture::new(CONFIG, Some(CREDS)).issue("jira", "1", &row(title));
    let path = derived_store_path(&f);
    f.write(&path);
    (f, path)
}

fn publish(f: &Fixture, url: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut args = vec!["publish", "--json", "--server-url", url];
    if !extra.contains(&"--retry-base-ms") {
        args.extend(["--retry-base-ms", "20"]);
    }
    args.extend_from_slice(extra);
    let out = f.ours(&args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, v)
}

#[test]
fn accepted_after_an_injected_503_then_a_duplicate() {
    let (f, _) = project("first");
    let s = Serve::start(&["--token", "serve-token-7", "--fail-first", "1"]);
    let (out, v) = publish(&f, &s.url, &[]);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["attempts"], 2);
    assert_eq!(v["body"]["scheme"], "v1", "{v}");
    assert_eq!(
        v["body"]["routing_key"],
        serde_json::json!(["jira", "acme.atlassian.net", "jira_project", "ACME"]),
        "{v}"
    );
    let (out, again) = publish(&f, &s.url, &[]);
    assert!(out.status.success());
    assert_eq!(again["body"]["duplicate"], true, "{again}");
    assert_eq!(again["idempotency_key"], v["idempotency_key"]);
}

#[test]
fn dropped_connections_and_a_slow_server_are_retried() {
    let (f, _) = project("t");
    let s = Serve::start(&["--drop-connection-first", "2"]);
    let (out, v) = publish(&f, &s.url, &[]);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["attempts"], 3);
    // The first attempt times out while the server still holds its key: the
    // retries get 409 (our own attempt in flight: wait and retry), then the
    // server's replay of the first answer.
    let s = Serve::start(&["--delay-ms", "2500"]);
    let (out, v) = publish(
        &f,
        &s.url,
        &[
            "--timeout-seconds",
            "1",
            "--retries",
            "10",
            "--retry-base-ms",
            "300",
        ],
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["body"]["duplicate"], true, "{v}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timed out") && err.contains("409"), "{err}");
}

#[test]
fn a_wrong_token_is_401_and_final() {
    let (f, _) = project("t");
    let s = Serve::start(&["--token", "another-token"]);
    let (out, v) = publish(&f, &s.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        (v["status_code"].as_u64(), v["attempts"].as_u64()),
        (Some(401), Some(1)),
        "{v}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("serve-token-7"));
}

#[test]
fn an_edited_snapshot_under_the_same_v1_key_is_422_and_the_content_key_avoids_it() {
    let (f, path) = project("before");
    let s = Serve::start(&[]);
    let (out, first) = publish(&f, &s.url, &[]);
    assert!(out.status.success(), "{first}");
    // Edit the stored title: same counts, same cursor, so the same v1 key.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE tracker_issues SET payload = ?1", [row("after")])
        .unwrap();
    drop(conn);
    let (out, v) = publish(&f, &s.url, &[]);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["status_code"], 422, "{v}");
    assert_eq!(v["idempotency_key"], first["idempotency_key"]);
    assert_eq!(v["attempts"], 1, "422 is final");
    // The content scheme keys the edited body anew: accepted.
    let (out, v) = publish(&f, &s.url, &["--idempotency", "content"]);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["body"]["scheme"], "content", "{v}");
}

#[test]
fn a_key_still_in_flight_is_409() {
    let (f, _) = project("t");
    let s = Serve::start(&["--delay-ms", "1500"]);
    let url = s.url.clone();
    let home = f.home();
    let dir = f.project();
    let first = std::thread::spawn(move || {
        Command::new(BIN)
            .args(["publish", "--json", "--retries", "0", "--server-url", &url])
            .current_dir(dir)
            .env("HOME", home)
            .output()
            .unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (out, v) = publish(&f, &s.url, &["--retries", "0"]);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["status_code"], 409, "{v}");
    let first = first.join().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
}
