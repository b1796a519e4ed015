//! A small sample spec-kitty project, written the way the CLI lays it out:
//! for `make demo` and the tests. This writes files; nothing else in this
//! crate does.

use std::path::Path;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::Publisher;

/// The CLI's schema (specify_cli/tracker/store.py).
pub const SCHEMA: &str = "
CREATE TABLE tracker_issues (identity TEXT PRIMARY KEY, system TEXT NOT NULL,
  workspace TEXT NOT NULL, issue_id TEXT NOT NULL, payload TEXT NOT NULL, updated_at TEXT);
CREATE TABLE tracker_checkpoints (checkpoint_key TEXT PRIMARY KEY, cursor TEXT, updated_since TEXT);
CREATE TABLE tracker_mappings (wp_id TEXT NOT NULL, system TEXT NOT NULL, workspace TEXT NOT NULL,
  external_id TEXT NOT NULL, external_key TEXT, external_url TEXT, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, PRIMARY KEY (wp_id, system), UNIQUE (system, workspace, external_id));
";

const CONFIG: &str = "project:
  uuid: 550e8400-e29b-41d4-a716-446655440000
  slug: spec-kitty-demo
tracker:
  provider: jira
  workspace: acme.atlassian.net
  doctrine:
    mode: external_authoritative
    field_owners:
      status: external
      title: local
";

const ISSUES: [(&str, &str); 3] = [
    (
        "10001",
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"10001","key":"ACME-1","url":"https://acme.atlassian.net/browse/ACME-1"},"title":"Publish snapshots from any host","body":"One request, computed once.","status":"in_progress","issue_type":"story","priority":1,"assignees":["ana@example.com"],"labels":["wasm","publish"],"parent":null,"links":[],"custom_fields":{},"created_at":null,"updated_at":"2026-03-10T08:30:00Z","raw":null}"#,
    ),
    (
        "10002",
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"10002","key":"ACME-2","url":null},"title":"Crème brûlée für alle — 漢字 🙂","body":null,"status":"todo","issue_type":"task","priority":"3","assignees":[],"labels":[],"updated_at":"2026-03-11"}"#,
    ),
    (
        "10003",
        r#"{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"10003","key":"ACME-3"},"title":"","body":"Line one\nLine two\t(tabbed)","status":"wontfix","issue_type":"bug","priority":null,"updated_at":"2026-03-12T09:15:30.25+01:00"}"#,
    ),
];

/// Writes the sample project into `project` and its credentials and tracker
/// store under `home` (as `$HOME`). Returns the store's path.
pub fn write_sample(
    publisher: &mut Publisher,
    project: &Path,
    home: &Path,
    token: &str,
) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(project.join(".kittify"))?;
    std::fs::write(project.join(".kittify/config.yaml"), CONFIG)?;
    let spec = home.join(".spec-kitty");
    std::fs::create_dir_all(spec.join("trackers"))?;
    let credentials = format!(
        "[tracker.providers.jira]\nbase_url = \"https://acme.atlassian.net\"\nemail = \"ana@example.com\"\napi_token = \"jira-api-secret\"\nproject_key = \"ACME\"\naccess_token = \"{token}\"\n"
    );
    std::fs::write(spec.join("credentials"), credentials)?;
    let creds = [
        ("base_url", "https://acme.atlassian.net"),
        ("email", "ana@example.com"),
        ("project_key", "ACME"),
        ("access_token", token),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let scope = publisher.store_scope("jira", "acme.atlassian.net", &creds)?;
    let db = spec.join("trackers").join(format!("{}.db", scope.scope));
    let conn = Connection::open(&db).with_context(|| db.display().to_string())?;
    conn.execute_batch(SCHEMA)?;
    for (id, payload) in ISSUES {
        conn.execute(
            "INSERT INTO tracker_issues VALUES (?1, 'jira', 'acme.atlassian.net', ?2, ?3, '2026-03-12T10:00:00+00:00')",
            (format!("jira:acme.atlassian.net:{id}"), id, payload),
        )?;
    }
    // An issue of another tracker in the same store: not published.
    conn.execute(
        "INSERT INTO tracker_issues VALUES ('linear:acme:LIN-1', 'linear', 'acme', 'LIN-1', '{\"ref\":{\"system\":\"linear\",\"workspace\":\"acme\",\"id\":\"LIN-1\"}}', NULL)",
        (),
    )?;
    conn.execute_batch(
        "INSERT INTO tracker_mappings VALUES ('WP01', 'jira', 'acme.atlassian.net', '10001', 'ACME-1', 'https://acme.atlassian.net/browse/ACME-1', '2026-03-01T12:00:00+00:00', '2026-03-10T08:31:00+00:00');
         INSERT INTO tracker_mappings VALUES ('WP02', 'jira', 'acme.atlassian.net', '10002', 'ACME-2', NULL, '2026-03-02T12:00:00+00:00', '2026-03-02T12:00:00+00:00');
         INSERT INTO tracker_checkpoints VALUES ('jira:acme.atlassian.net', 'cursor-42', '2026-03-12T09:00:00Z');",
    )?;
    Ok(db)
}
