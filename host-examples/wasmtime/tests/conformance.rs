//! Every shared conformance vector through the component in wasmtime, both
//! entry points, each reported by name; plus the component's shape (zero
//! imports, the exported interface).

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::sync::Mutex;

use libtest_mimic::{Arguments, Trial};
use serde_json::Value;
use tracker_publish::IdempotencyScheme;
use tracker_publish_host::{Checkpoint, IssueRef, IssueSnapshot, MappingRow, Publisher, SnapshotInput};
use vectors::{Case, Outcome, cases, check};

fn t(v: &Value) -> String {
    v.as_str().expect("a string").to_owned()
}

fn o(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object().expect("an object").iter().map(|(k, v)| (k.clone(), t(v))).collect()
}

/// The WIT records for a JSON input object, as a Rust host builds them.
fn typed(v: &Value) -> SnapshotInput {
    SnapshotInput {
        server_url: t(&v["server_url"]),
        auth_token: o(&v["auth_token"]),
        provider: t(&v["provider"]),
        workspace: t(&v["workspace"]),
        doctrine_mode: o(&v["doctrine_mode"]),
        doctrine_field_owners: pairs(&v["doctrine_field_owners"]),
        credentials: pairs(&v["credentials"]),
        project_uuid: o(&v["project_uuid"]),
        project_slug: o(&v["project_slug"]),
        issues: v["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .map(|i| IssueSnapshot {
                ref_: IssueRef {
                    system: t(&i["ref"]["system"]),
                    workspace: t(&i["ref"]["workspace"]),
                    id: t(&i["ref"]["id"]),
                    key: o(&i["ref"]["key"]),
                    url: o(&i["ref"]["url"]),
                },
                title: t(&i["title"]),
                body: o(&i["body"]),
                status: t(&i["status"]),
                issue_type: t(&i["issue_type"]),
                priority: i["priority"].as_i64(),
                assignees: i["assignees"].as_array().expect("list").iter().map(t).collect(),
                labels: i["labels"].as_array().expect("list").iter().map(t).collect(),
                updated_at: o(&i["updated_at"]),
            })
            .collect(),
        mappings: v["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .map(|m| MappingRow {
                wp_id: t(&m["wp_id"]),
                system: t(&m["system"]),
                workspace: t(&m["workspace"]),
                external_id: t(&m["external_id"]),
                external_key: o(&m["external_key"]),
                external_url: o(&m["external_url"]),
                created_at: t(&m["created_at"]),
                updated_at: t(&m["updated_at"]),
            })
            .collect(),
        checkpoint: v["checkpoint"].as_object().map(|c| Checkpoint {
            cursor: o(&c["cursor"]),
            updated_since: o(&c["updated_since"]),
        }),
    }
}

fn outcome(r: Result<tracker_publish::PublishRequest, tracker_publish::PublishError>) -> Outcome {
    match r {
        Ok(r) => Outcome::Request {
            endpoint: r.endpoint,
            headers: r.headers,
            body: r.body,
            idempotency_key: r.idempotency_key,
        },
        Err(e) => Outcome::Error {
            kind: e.kind().as_str().to_owned(),
            message: e.message().to_owned(),
        },
    }
}

/// One instance for every case, as a real host reuses it.
static PUBLISHER: Mutex<Option<Publisher>> = Mutex::new(None);

fn with_publisher<T>(f: impl FnOnce(&mut Publisher) -> T) -> T {
    let mut guard = PUBLISHER.lock().unwrap_or_else(|p| p.into_inner());
    let p = guard.get_or_insert_with(|| Publisher::new().expect("loading the component"));
    f(p)
}

fn trial(entry: &'static str, case: Case) -> Trial {
    Trial::test(format!("wasmtime::{entry}::{}", case.name), move || {
        let got = with_publisher(|p| match entry {
            "json" => p.build_json(&case.input_json, IdempotencyScheme::V1),
            _ => p.build_typed(&typed(&case.input), IdempotencyScheme::V1),
        })
        .map_err(|e| format!("{e:#}"))?;
        check(&case, &outcome(got)).map_err(Into::into)
    })
}

fn shape_trials() -> Vec<Trial> {
    vec![
        Trial::test("component::has_zero_imports", || {
            let engine = tracker_publish_host::engine()?;
            let component = tracker_publish_host::load_component(&engine)?;
            let ty = component.component_type();
            let imports: Vec<String> = ty.imports(&engine).map(|(name, _)| name.to_owned()).collect();
            if !imports.is_empty() {
                return Err(format!("the component imports {imports:?}").into());
            }
            let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_owned()).collect();
            if exports != ["spec-kitty:tracker/publish@0.1.0"] {
                return Err(format!("unexpected exports {exports:?}").into());
            }
            Ok(())
        }),
        Trial::test("component::routing_matches_the_cli", || {
            with_publisher(|p| -> Result<(), libtest_mimic::Failed> {
                let creds = vec![("project_key".to_owned(), " ACME ".to_owned())];
                assert_eq!(
                    p.resolve_routing("jira", &creds)?,
                    Some(("jira_project".to_owned(), "ACME".to_owned()))
                );
                // Like the CLI's _resolve_resource_routing: the provider must be normalised first.
                assert_eq!(p.resolve_routing("Jira", &creds)?, None);
                assert_eq!(p.normalize_provider(" Azure-DevOps ")?, "azure_devops");
                Ok(())
            })
        }),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = shape_trials();
    for case in cases() {
        trials.push(trial("json", case.clone()));
        trials.push(trial("typed", case));
    }
    libtest_mimic::run(&args, trials).exit();
}
