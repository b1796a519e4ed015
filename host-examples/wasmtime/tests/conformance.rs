//! Every shared conformance vector through the component in wasmtime, both
//! entry points, each reported by name; plus the component's shape (zero
//! imports, the exported interface).

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::sync::Mutex;

use libtest_mimic::{Arguments, Trial};
use tracker_publish::IdempotencyScheme;
use tracker_publish_host::{Publisher, typed_input};
use vectors::{Case, cases, check};

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
            _ => p.build_typed(
                &typed_input(&case.input).expect("typed input"),
                IdempotencyScheme::V1,
            ),
        })
        .map_err(|e| format!("{e:#}"))?;
        check(&case, &got.into()).map_err(Into::into)
    })
}

fn shape_trials() -> Vec<Trial> {
    vec![
        Trial::test("component::has_zero_imports", || {
            let engine = tracker_publish_host::engine()?;
            let component = tracker_publish_host::load_component(&engine)?;
            let ty = component.component_type();
            let imports: Vec<String> = ty
                .imports(&engine)
                .map(|(name, _)| name.to_owned())
                .collect();
            if !imports.is_empty() {
                return Err(format!("the component imports {imports:?}").into());
            }
            let exports: Vec<String> = ty
                .exports(&engine)
                .map(|(name, _)| name.to_owned())
                .collect();
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
