//! `.kittify/config.yaml` as we read it against the released CLI's own
//! reading (ruamel.yaml, `load_tracker_config`, `_project_identity`), on
//! generated files: plain, padded, quoted, YAML 1.2 scalars (`yes`, `012`,
//! `1_000`, `0x1F`, `.inf`, dates), repeated keys, tags, aliases.

mod common;

use tracker_publish::ErrorKind as Core;
use tracker_publish_host::ErrorKind;
use tracker_publish_host::project::read_config;

#[test]
fn config_files_read_as_the_cli_reads_them_or_refused_where_it_fails() {
    let dir = common::TempDir::new();
    let cases = common::reference_cases("config_yaml.py", "5", "3000", dir.path());
    let (mut same, mut refused, mut failures) = (0, 0, Vec::new());
    for c in &cases {
        let root = dir.path().join(c["i"].as_u64().unwrap().to_string());
        let text = c["text"].as_str().unwrap();
        let cli_ok = c["ok"].as_bool().unwrap();
        let garbled = c["garbled"].as_array().is_some_and(|g| !g.is_empty());
        let configured = cli_ok && !c["provider"].is_null() && !c["workspace"].is_null();
        match read_config(&root) {
            Ok(cfg) => {
                let owners: Vec<serde_json::Value> = cfg
                    .field_owners
                    .iter()
                    .map(|(k, v)| serde_json::json!([k, v]))
                    .collect();
                let ours = serde_json::json!({
                    "provider": cfg.provider, "workspace": cfg.workspace,
                    "doctrine_mode": tracker_publish::normalize::doctrine_mode(cfg.doctrine_mode.as_deref()),
                    "field_owners": owners, "uuid": cfg.project_uuid, "slug": cfg.project_slug,
                });
                let theirs = serde_json::json!({
                    "provider": c["provider"], "workspace": c["workspace"],
                    "doctrine_mode": c["doctrine_mode"], "field_owners": c["field_owners"],
                    "uuid": c["uuid"], "slug": c["slug"],
                });
                if !configured || garbled || ours != theirs {
                    failures.push(format!(
                        "{text}\n  cli {theirs} garbled {}\n  ours {ours}",
                        c["garbled"]
                    ));
                } else {
                    same += 1;
                }
            }
            Err(e) => {
                let fine = match e.kind() {
                    ErrorKind::Core(Core::NotConfigured) => cli_ok && !configured,
                    ErrorKind::InvalidConfig => !cli_ok || garbled || !configured,
                    _ => false,
                };
                if fine {
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
