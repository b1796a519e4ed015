//! `tracker-publish publish` as a user runs it: real projects on disk (the
//! CLI's layout, SQLite stores made here), real HTTP over loopback.

mod common;

use std::time::Duration;

use common::{Answer, Capture, Fixture, derived_store_path};

const CONFIG: &str = "tracker:\n  provider: jira\n  workspace: acme.atlassian.net\n";
const CREDS: &str = "[tracker.providers.jira]\nproject_key = \"ACME\"\naccess_token = \"secret-token-42\"\napi_token = \"jira-api-secret\"\n";
const ROW: &str = r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"1","key":"ACME-1","url":null},"title":"Ünïcode 漢","body":null,"status":"done","issue_type":"bug","priority":1,"assignees":["ana"],"labels":[],"updated_at":"2026-03-10T08:30:00+00:00"}"#;

fn project() -> Fixture {
    project_at().0
}

/// The project and its store's path.
fn project_at() -> (Fixture, std::path::PathBuf) {
    let f = Fixture::new(CONFIG, Some(CREDS))
        .issue("jira", "1", ROW)
        .mapping("WP01", "1", Some("ACME-1"))
        .checkpoint("jira:acme.atlassian.net", Some("c1"), None);
    let path = derived_store_path(&f);
    f.write(&path);
    (f, path)
}

fn publish(f: &Fixture, url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "publish",
        "--json",
        "--server-url",
        url,
        "--retry-base-ms",
        "20",
    ];
    args.extend_from_slice(extra);
    f.ours(&args)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn no_secret(out: &std::process::Output) {
    for s in ["secret-token-42", "jira-api-secret"] {
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(s),
            "stdout leaks {s}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(s),
            "stderr leaks {s}"
        );
    }
}

#[test]
fn a_503_is_retried_with_the_same_bytes_and_key() {
    let f = project();
    let server = Capture::start(vec![
        Answer::json(503, r#"{"detail":"busy"}"#).header("retry-after", "0"),
        Answer::json(201, r#"{"accepted":true}"#),
    ]);
    let out = publish(&f, &server.url, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["attempts"], 2);
    assert_eq!(v["status_code"], 201);
    assert_eq!(v["ok"], true);
    assert_eq!(v["body"]["accepted"], true);
    let got = server.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(
        got[0].header("idempotency-key"),
        got[1].header("idempotency-key")
    );
    assert_eq!(
        got[0].header("idempotency-key"),
        v["idempotency_key"].as_str()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("attempt 1/4") && err.contains("the server answered 503"),
        "{err}"
    );
    no_secret(&out);
}

#[test]
fn a_dropped_connection_is_retried() {
    let f = project();
    let server = Capture::start(vec![Answer::dropped(), Answer::json(200, "{}")]);
    let out = publish(&f, &server.url, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["attempts"], 2);
    let got = server.requests();
    assert_eq!(got[0].body, got[1].body);
}

#[test]
fn a_server_slower_than_the_timeout_is_retried() {
    let f = project();
    let server = Capture::start(vec![
        Answer::json(201, "{}").delay(2500),
        Answer::json(201, "{}"),
    ]);
    let out = publish(&f, &server.url, &["--timeout-seconds", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["attempts"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
}

#[test]
fn a_400_is_final_and_not_retried() {
    let f = project();
    let server = Capture::start(vec![Answer::json(400, r#"{"title":"bad"}"#)]);
    let out = publish(&f, &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(
        (
            v["status_code"].as_u64(),
            v["ok"].as_bool(),
            v["attempts"].as_u64()
        ),
        (Some(400), Some(false), Some(1))
    );
    assert_eq!(server.requests().len(), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the snapshot with 400") && err.contains("same Idempotency-Key"),
        "{err}"
    );
}

#[test]
fn a_401_is_final_and_the_token_is_not_shown() {
    let f = project();
    let server = Capture::start(vec![Answer::json(401, r#"{"title":"unauthorized"}"#)]);
    let out = publish(&f, &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer secret-token-42")
    );
    no_secret(&out);
}

#[test]
fn every_attempt_failing_exits_1_and_says_how_to_retry() {
    let f = project();
    let server = Capture::start(vec![Answer::json(503, "{}")]);
    let out = publish(&f, &server.url, &["--retries", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.requests().len(), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("still answered 503 after 3 attempts"), "{err}");
}

#[test]
fn no_server_at_all_exits_1_after_the_retries() {
    let f = project();
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = publish(&f, &format!("http://127.0.0.1:{port}"), &["--retries", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["status_code"], serde_json::Value::Null);
    assert_eq!(v["attempts"], 2);
    assert!(v["error"].is_string());
}

#[test]
fn human_output_is_the_clis_summary_plus_attempts() {
    let f = project();
    let server = Capture::start(vec![Answer::json(201, "{}")]);
    let out = f.ours(&["publish", "--server-url", &server.url]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Snapshot publish complete");
    assert!(lines[1].starts_with("- endpoint: http://127.0.0.1:"));
    assert_eq!(lines[2], "- status_code: 201");
    assert_eq!(lines[3], "- ok: yes");
    assert!(lines[4].starts_with("- idempotency_key: ") && lines[4].len() == 19 + 64);
    assert_eq!(lines[5], "- attempts: 1");
}

#[test]
fn dry_run_equals_preview_of_the_same_input() {
    let f = project();
    let dry = f.ours(&[
        "publish",
        "--dry-run",
        "--show-secrets",
        "--server-url",
        "https://saas.example.com/",
    ]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let input = serde_json::json!({
        "server_url": "https://saas.example.com/", "auth_token": null,
        "provider": "jira", "workspace": "acme.atlassian.net",
        "doctrine_mode": null, "doctrine_field_owners": {},
        "credentials": {"project_key": "ACME", "access_token": "secret-token-42", "api_token": "jira-api-secret"},
        "project_uuid": null, "project_slug": null,
        "issues": [serde_json::from_str::<serde_json::Value>(ROW).unwrap()],
        "mappings": [{"wp_id": "WP01", "system": "jira", "workspace": "acme.atlassian.net", "external_id": "1",
                      "external_key": "ACME-1", "external_url": null,
                      "created_at": "2026-03-01T12:00:00+00:00", "updated_at": "2026-03-02T12:00:00+00:00"}],
        "checkpoint": {"cursor": "c1", "updated_since": null},
    });
    let file = f.dir.path().join("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    let preview = f.ours(&[
        "preview",
        "--show-secrets",
        "--input",
        file.to_str().unwrap(),
    ]);
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stdout)
    );
    assert_eq!(json(&dry), json(&preview));
    // Masked by default.
    let masked = f.ours(&[
        "publish",
        "--dry-run",
        "--server-url",
        "https://saas.example.com/",
    ]);
    no_secret(&masked);
}

#[test]
fn publishing_changes_no_file() {
    let f = project();
    let snapshot = |dir: &std::path::Path| {
        let mut v: Vec<(String, Vec<u8>, std::time::SystemTime)> = walk(dir)
            .into_iter()
            .map(|p| {
                let m = std::fs::metadata(&p).unwrap();
                (
                    p.display().to_string(),
                    std::fs::read(&p).unwrap(),
                    m.modified().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(f.dir.path());
    let server = Capture::start(vec![Answer::json(201, "{}")]);
    assert!(publish(&f, &server.url, &[]).status.success());
    assert_eq!(
        before,
        snapshot(f.dir.path()),
        "a file was created or changed"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn refused(f: &Fixture, kind: &str, says: &[&str]) {
    f.write_files();
    let out = f.ours(&["publish", "--json", "--server-url", "http://127.0.0.1:9"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["error"]["kind"], kind, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    for s in says {
        assert!(msg.contains(s), "{msg:?} does not say {s:?}");
    }
    no_secret(&out);
    // Without --json: one line on standard error, nothing on standard out.
    let plain = f.ours(&["publish", "--server-url", "http://127.0.0.1:9"]);
    assert_eq!(plain.status.code(), Some(2));
    assert!(plain.stdout.is_empty());
    assert!(String::from_utf8_lossy(&plain.stderr).contains(kind));
}

#[test]
fn a_missing_store_is_refused_naming_the_path_and_scope() {
    let mut f = Fixture::new(CONFIG, Some(CREDS));
    f.store = false;
    let path = derived_store_path(&f);
    refused(
        &f,
        "store-missing",
        &[
            &path.display().to_string(),
            "jira|acme.atlassian.net|local|anonymous|no-team",
            "--allow-empty",
        ],
    );
    assert!(!path.exists(), "the store was created");
    // --allow-empty publishes the empty snapshot.
    let server = Capture::start(vec![Answer::json(201, "{}")]);
    let out = publish(&f, &server.url, &["--allow-empty"]);
    assert!(out.status.success());
    let body: serde_json::Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(body["issues"], serde_json::json!([]));
    assert!(!path.exists(), "the store was created");
}

#[test]
fn a_locked_store_is_refused() {
    let (f, path) = project_at();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    refused(&f, "invalid-store", &["locked"]);
    conn.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_corrupt_store_or_one_of_another_shape_is_refused() {
    let (f, path) = project_at();
    std::fs::write(
        &path,
        b"this is not a database, just text that is long enough to be a page header",
    )
    .unwrap();
    refused(&f, "invalid-store", &["not a SQLite database"]);
    std::fs::remove_file(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE tracker_issues (identity TEXT, system TEXT, payload TEXT)")
        .unwrap();
    drop(conn);
    refused(&f, "invalid-store", &["tracker_issues.workspace"]);
}

#[test]
fn a_stored_row_we_refuse_names_its_identity_and_field() {
    let f = Fixture::new(CONFIG, Some(CREDS)).issue(
        "jira",
        "9",
        r#"{"ref":{"system":"jira","workspace":"w","id":"9"},"priority":true}"#,
    );
    let path = derived_store_path(&f);
    f.write(&path);
    refused(&f, "invalid-store-row", &["jira:w:9", "priority"]);
}

#[test]
fn config_and_credentials_errors_name_the_file_and_field() {
    let f = Fixture::new("tracker:\n  provider: 7\n  workspace: w\n", Some(CREDS));
    refused(
        &f,
        "not-configured",
        &["config.yaml", "tracker.provider", "an integer"],
    );
    let f = Fixture::new(
        "tracker: {provider: jira, workspace: w}\nproject: {slug: !!str 12}\n",
        Some(CREDS),
    );
    refused(&f, "invalid-config", &["config.yaml", "tag"]);
    let f = Fixture::new(
        "tracker:\n  provider: jira\n  provider: linear\n",
        Some(CREDS),
    );
    refused(&f, "invalid-config", &["twice"]);
    let f = Fixture::new(
        "tracker:\n  provider: jira\n  workspace: w\n  doctrine:\n    field_owners: {status: 1.5}\n",
        Some(CREDS),
    );
    refused(&f, "invalid-config", &["field_owners"]);
    let f = Fixture::new(
        CONFIG,
        Some("[tracker.providers.jira]\nproject_key = 1.5\naccess_token = \"secret-token-42\"\n"),
    );
    refused(
        &f,
        "invalid-credentials",
        &["credentials", "project_key", "float"],
    );
    let f = Fixture::new(
        CONFIG,
        Some("[tracker.providers.jira\naccess_token = \"secret-token-42\"\n"),
    );
    refused(&f, "invalid-credentials", &["not TOML", "line 1"]);
    let f = Fixture::new(CONFIG, Some(CREDS));
    std::fs::create_dir_all(f.project().join(".kittify")).unwrap();
    let out = f.ours(&["publish", "--json", "--server-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "not-configured");
}

#[test]
fn bad_server_urls_and_tokens_are_refused_before_anything_is_read() {
    let f = project();
    let out = f.ours(&["publish", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "invalid-server-url");
    let out = f.ours(&["publish", "--json", "--server-url", "https://user:pw@host"]);
    assert_eq!(json(&out)["error"]["kind"], "invalid-server-url");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("pw@"));
    let out = f.ours(&[
        "publish",
        "--json",
        "--server-url",
        "https://h",
        "--auth-token",
        "a\r\nX: y",
    ]);
    assert_eq!(json(&out)["error"]["kind"], "invalid-auth-token");
    let out = f.ours(&[
        "publish",
        "--server-url",
        "https://h",
        "--timeout-seconds",
        "0.5",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses out-of-range timeouts"
    );
    let _ = Duration::ZERO;
}
