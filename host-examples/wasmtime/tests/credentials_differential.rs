//! `~/.spec-kitty/credentials` as we read it against the released CLI's own
//! reading (tomllib, `get_provider`, its token, routing and store path), on
//! generated files: strings, integers (0 included), padding, the types the
//! contract refuses, TOML the CLI's parser rejects, other providers' tables.

mod common;

use tracker_publish_host::ErrorKind;
use tracker_publish_host::project::read_credentials;

#[test]
fn credentials_read_as_the_cli_reads_them_or_refused_where_it_fails() {
    let dir = common::TempDir::new();
    let cases = common::reference_cases("credentials_toml.py", "9", "3000", dir.path());
    let (mut same, mut refused, mut failures) = (0, 0, Vec::new());
    for c in &cases {
        let path = dir.path().join(format!("{}.toml", c["i"]));
        let text = c["text"].as_str().unwrap();
        let cli_ok = c["ok"].as_bool().unwrap();
        let garbled = c["garbled"].as_array().is_some_and(|g| !g.is_empty());
        match read_credentials(&path, "jira") {
            Ok(creds) => {
                // The rules that use them are the core's: the token, the
                // routing, the store scope.
                let input = tracker_publish::SnapshotInput {
                    server_url: "https://example.com".into(),
                    provider: "jira".into(),
                    workspace: "w".into(),
                    credentials: creds
                        .iter()
                        .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                        .collect(),
                    ..Default::default()
                };
                let token =
                    match tracker_publish::build_snapshot_payload(&input, &Default::default()) {
                        Ok(r) => r
                            .headers
                            .iter()
                            .find(|(n, _)| n == "Authorization")
                            .map(|(_, v)| v.trim_start_matches("Bearer ").to_owned())
                            .unwrap_or_default(),
                        Err(e) => format!("refused: {}", e.kind()),
                    };
                let routing = tracker_publish::resolve_resource_routing("jira", &creds)
                    .map(|r| serde_json::json!([r.resource_type, r.resource_id]))
                    .unwrap_or(serde_json::json!([null, null]));
                let scope = tracker_publish::tracker_scope("jira", "w", &creds);
                let ours = serde_json::json!({
                    "token": token, "routing": routing, "store": format!("{}.db", scope.scope),
                });
                let theirs = serde_json::json!({
                    "token": c["token"], "routing": c["routing"], "store": c["store"],
                });
                // A token the CLI would send broken is ours to refuse; the
                // routing and the store must agree all the same.
                let token_refused = token.starts_with("refused: invalid-auth-token");
                let agree = if token_refused {
                    ours["routing"] == theirs["routing"] && ours["store"] == theirs["store"]
                } else {
                    ours == theirs
                };
                if !cli_ok || garbled || !agree {
                    failures.push(format!("{text}\n  cli {c}\n  ours {ours}"));
                } else {
                    same += 1;
                }
            }
            Err(e) => {
                if e.kind() == ErrorKind::InvalidCredentials && (!cli_ok || garbled) {
                    refused += 1;
                } else {
                    failures.push(format!(
                        "{text}\n  cli {c}\n  we refuse: {} {}",
                        e.kind(),
                        e.message()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(12)].join("\n")
    );
    assert!(
        same > 300 && refused > 300,
        "{same} same, {refused} refused"
    );
}
