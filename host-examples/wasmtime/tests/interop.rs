//! Interoperability with the released CLI: for each fixture project, the
//! real `spec-kitty tracker sync publish --json` (spec-kitty-cli 2.1.3, in
//! the venv `make cli-venv` creates) and our `publish` post to the same
//! loopback server; the two requests must be identical (path, body bytes,
//! Content-Type, Idempotency-Key, Authorization). Where the CLI fails its
//! user (publish-contract.md section 9), we refuse cleanly instead.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{Answer, Capture, Fixture, Received, derived_store_path};

fn spec_kitty() -> PathBuf {
    common::cli_python().with_file_name("spec-kitty")
}

fn cli(f: &Fixture, url: &str, extra: &[&str]) -> Output {
    Command::new(spec_kitty())
        .args(["tracker", "sync", "publish", "--json", "--server-url", url])
        .args(extra)
        .current_dir(f.project())
        .env("HOME", f.home())
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .env_remove("SAAS_API_URL")
        .env_remove("SAAS_AUTH_TOKEN")
        .env_remove("SPECIFY_REPO_ROOT")
        .output()
        .unwrap()
}

const JIRA_CONFIG: &str = "project:\n  uuid: 550e8400-e29b-41d4-a716-446655440000\n  slug: demo\ntracker:\n  provider: jira\n  workspace: acme.atlassian.net\n  doctrine:\n    mode: split_ownership\n    field_owners:\n      status: external\n      title: local\n";
const JIRA_CREDS: &str = "[tracker.providers.jira]\nbase_url = \"https://acme.atlassian.net\"\nemail = \"ana@example.com\"\napi_token = \"jira-secret\"\nproject_key = \"ACME\"\naccess_token = \"tok-123\"\n";

fn issue(id: &str, extra: &str) -> String {
    format!(
        r#"{{"ref":{{"system":"jira","workspace":"acme.atlassian.net","id":"{id}","key":"ACME-{id}","url":null}},"title":"Issue {id} — é漢🙂","body":"b\n\t\"q\"","status":"todo","issue_type":"task","priority":2,"assignees":["ana"],"labels":["x"],"updated_at":"2026-03-10T08:30:00+00:00"{extra}}}"#
    )
}

fn write(f: &Fixture) {
    let path = derived_store_path(f);
    f.write(&path);
}

const WIRE: [&str; 3] = ["content-type", "idempotency-key", "authorization"];

fn same_request(a: &Received, b: &Received) {
    assert_eq!(a.method, "POST");
    assert_eq!(a.path, b.path, "path");
    assert_eq!(
        String::from_utf8_lossy(&a.body),
        String::from_utf8_lossy(&b.body),
        "body bytes"
    );
    for h in WIRE {
        assert_eq!(a.header(h), b.header(h), "header {h}");
    }
}

/// Both publish; the requests must be identical.
fn both_publish(f: Fixture) {
    write(&f);
    let server = Capture::start(vec![Answer::json(201, r#"{"accepted":true}"#)]);
    let ours = f.ours(&["publish", "--json", "--server-url", &server.url]);
    assert!(
        ours.status.success(),
        "ours failed: {}{}",
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ours.stderr)
    );
    let theirs = cli(&f, &server.url, &[]);
    assert!(
        theirs.status.success(),
        "the CLI failed: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let got = server.requests();
    assert_eq!(got.len(), 2, "one request each");
    same_request(&got[0], &got[1]);
    // The --json result is the CLI's (plus attempts).
    let mut a: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(a["attempts"], 1);
    a.as_object_mut().unwrap().remove("attempts");
    assert_eq!(a, b);
}

/// We refuse with `kind` and send nothing; the CLI shows what it would do.
fn we_refuse(f: Fixture, kind: &str) -> (Output, Vec<Received>) {
    write(&f);
    let server = Capture::start(vec![Answer::json(201, "{}")]);
    let ours = f.ours(&["publish", "--json", "--server-url", &server.url]);
    assert_eq!(
        ours.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(v["error"]["kind"], kind, "{v}");
    assert!(server.requests().is_empty(), "we sent nothing");
    let theirs = cli(&f, &server.url, &[]);
    (theirs, server.requests())
}

#[test]
fn jira_project() {
    both_publish(
        Fixture::new(JIRA_CONFIG, Some(JIRA_CREDS))
            .issue("jira", "1", &issue("1", ""))
            .issue(
                "jira",
                "2",
                &issue(
                    "2",
                    r#","parent":{"system":"jira","workspace":"w","id":"9"}"#,
                ),
            )
            .mapping("WP01", "1", Some("ACME-1"))
            .mapping("WP02", "2", None)
            .checkpoint(
                "jira:acme.atlassian.net",
                Some("c-7"),
                Some("2026-03-12T09:00:00Z"),
            ),
    );
}

#[test]
fn linear_project() {
    let config = "tracker:\n  provider: linear\n  workspace: acme\n";
    let creds = "[tracker.providers.linear]\nteam_id = \"TEAM-9\"\ntoken = \"lin-tok\"\nteam_slug = \"Core\"\n";
    both_publish(
        Fixture::new(config, Some(creds))
            .issue(
                "linear",
                "L1",
                &issue("1", "").replace("\"jira\"", "\"linear\""),
            )
            .checkpoint("linear:acme", None, None),
    );
}

#[test]
fn unrouted_provider_with_alias() {
    let config = "tracker:\n  provider: Azure-DevOps\n  workspace: contoso\n";
    let creds = "[tracker.providers.Azure-DevOps]\nproject_key = \"NOPE\"\nserver_url = \"https://dev.azure.com/contoso\"\nusername = \"Ana\"\n";
    both_publish(Fixture::new(config, Some(creds)).issue(
        "azure_devops",
        "7",
        &issue("7", "").replace("\"jira\"", "\"azure_devops\""),
    ));
}

#[test]
fn hand_edited_padded_provider() {
    let config = "tracker:\n  provider: \" Jira \"\n  workspace: \" acme.atlassian.net \"\n  doctrine:\n    mode: \"  \"\n    field_owners: {status: external, 1: 2, blank: \" \"}\nproject:\n  slug: 012\n";
    let creds =
        "[tracker.providers.Jira]\nproject_key = \"  ACME  \"\naccess_token = \" padded-tok \"\n";
    both_publish(
        Fixture::new(config, Some(creds))
            .issue("jira", "1", &issue("1", ""))
            .checkpoint("jira:acme.atlassian.net", Some("c"), Some("2026-03-12")),
    );
}

#[test]
fn stored_rows_as_the_cli_rewrites_them() {
    let rows = [
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"1"},"title":"z","updated_at":"2026-03-10T08:30:00Z"}"#,
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"2"},"title":"","status":"wontfix","issue_type":"incident","priority":"03"}"#,
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":3,"key":4},"title":"t","priority":"high","updated_at":"20260310T083000.5-0530","body":7}"#,
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"4"},"title":"dup","title":"last wins","assignees":[1,"b"],"updated_at":"garbage"}"#,
    ];
    let mut f = Fixture::new(JIRA_CONFIG, Some(JIRA_CREDS));
    for (i, r) in rows.iter().enumerate() {
        f = f.issue("jira", &i.to_string(), r);
    }
    // Issues of another system in the same store are not published.
    f = f.issue(
        "linear",
        "x",
        &issue("x", "").replace("\"jira\"", "\"linear\""),
    );
    both_publish(f);
}

#[test]
fn no_checkpoint_no_mappings_no_credentials() {
    let config = "tracker:\n  provider: jira\n  workspace: acme.atlassian.net\n";
    both_publish(Fixture::new(config, None).issue("jira", "1", &issue("1", "")));
}

#[test]
fn token_with_a_space_is_refused_where_the_cli_sends_it() {
    let creds = JIRA_CREDS.replace("tok-123", "tok 123");
    let (theirs, sent) = we_refuse(
        Fixture::new(JIRA_CONFIG, Some(&creds)).issue("jira", "1", &issue("1", "")),
        "invalid-auth-token",
    );
    assert!(theirs.status.success());
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer tok 123"),
        "the CLI sends a broken header"
    );
}

#[test]
fn non_ascii_token_is_refused_where_the_cli_crashes() {
    let creds = JIRA_CREDS.replace("tok-123", "tök");
    let (theirs, sent) = we_refuse(
        Fixture::new(JIRA_CONFIG, Some(&creds)).issue("jira", "1", &issue("1", "")),
        "invalid-auth-token",
    );
    assert!(
        !theirs.status.success() && sent.is_empty(),
        "the CLI crashes"
    );
}

#[test]
fn missing_store_is_refused_where_the_cli_publishes_an_empty_snapshot() {
    let mut f = Fixture::new(JIRA_CONFIG, Some(JIRA_CREDS));
    f.store = false;
    let (theirs, sent) = we_refuse(f, "store-missing");
    assert!(theirs.status.success());
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body["issues"],
        serde_json::json!([]),
        "the CLI says: no issues"
    );
}

#[test]
fn garbled_row_is_refused_where_the_cli_splits_a_string() {
    let (theirs, sent) = we_refuse(
        Fixture::new(JIRA_CONFIG, Some(JIRA_CREDS)).issue(
            "jira",
            "1",
            &issue("1", "").replace(r#""assignees":["ana"]"#, r#""assignees":"ana""#),
        ),
        "invalid-store-row",
    );
    assert!(theirs.status.success());
    let body = String::from_utf8_lossy(&sent[0].body).into_owned();
    assert!(body.contains(r#""assignees":["a","n","a"]"#), "{body}");
}
