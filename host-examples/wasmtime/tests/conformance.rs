//! Every shared conformance vector through the component in wasmtime, both
//! entry points, each reported by name; plus the component's shape (zero
//! imports, the exported interface).

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::sync::Mutex;

use libtest_mimic::{Arguments, Trial};
use tracker_publish::IdempotencyScheme;
use tracker_publish_host::{Error, Publisher, typed_input};
use vectors::{Case, Outcome, cases, check};

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
        let got = match got {
            Ok(r) => Ok(r).into(),
            Err(e) => Outcome::Error {
                kind: e.kind().as_str().to_owned(),
                message: e.message().to_owned(),
            },
        };
        check(&case, &got).map_err(Into::into)
    })
}

/// No imports; exactly the given interfaces of spec-kitty:tracker@0.1.0 exported.
fn shape(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
    interfaces: &[&str],
) -> Result<(), libtest_mimic::Failed> {
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
    if !imports.is_empty() {
        return Err(format!("the component imports {imports:?}").into());
    }
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
    let want: Vec<String> = interfaces
        .iter()
        .map(|i| format!("spec-kitty:tracker/{i}@0.1.0"))
        .collect();
    if exports != want {
        return Err(format!("exports {exports:?}, expected {want:?}").into());
    }
    Ok(())
}

fn shape_trials() -> Vec<Trial> {
    vec![
        Trial::test("component::full_has_zero_imports", || {
            let engine = tracker_publish_host::engine()?;
            let component = tracker_publish_host::load_component(&engine)?;
            shape(
                &engine,
                &component,
                &["publish", "store", "receive", "framed"],
            )
        }),
        Trial::test("component::lean_has_zero_imports", || {
            // dist/tracker_publish.wasm: what Node and other client hosts embed (Python takes the full one, for `framed`).
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../dist/tracker_publish.wasm"
            );
            let engine = tracker_publish_host::engine()?;
            let component = wasmtime::component::Component::from_file(&engine, path)
                .map_err(|e| format!("{path}: {e} (run make build)"))?;
            shape(&engine, &component, &["publish"])
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

/// `verify-snapshot` in the guest: the vector's expected request verifies as
/// `v1`, the same body under its content key as `content`, a tampered body is
/// refused, and every answer equals the native one.
fn verify_trial(case: Case) -> Trial {
    Trial::test(format!("wasmtime::verify::{}", case.name), move || {
        let vectors::Expected::Request {
            body,
            idempotency_key,
            ..
        } = &case.expected
        else {
            unreachable!()
        };
        let body = body.as_bytes();
        let content = tracker_publish::idempotency::content_key(body);
        let mut spaced = body.to_vec();
        spaced.insert(1, b' ');
        for (bytes, key, scheme) in [
            (body, idempotency_key.as_str(), Some(IdempotencyScheme::V1)),
            (body, content.as_str(), Some(IdempotencyScheme::Content)),
            (body, "0", None),
            (spaced.as_slice(), idempotency_key.as_str(), None),
        ] {
            let guest = with_publisher(|p| p.verify(bytes, key)).map_err(|e| format!("{e:#}"))?;
            let native = tracker_publish::verify_snapshot(bytes, key).map_err(Error::from);
            if guest != native {
                return Err(format!("guest {guest:?} != native {native:?}").into());
            }
            if guest.as_ref().ok().map(|r| r.scheme) != scheme {
                return Err(format!("expected scheme {scheme:?}, got {guest:?}").into());
            }
        }
        Ok(())
    })
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = shape_trials();
    for case in cases() {
        if matches!(case.expected, vectors::Expected::Request { .. }) {
            trials.push(verify_trial(case.clone()));
        }
        trials.push(trial("json", case.clone()));
        trials.push(trial("typed", case));
    }
    libtest_mimic::run(&args, trials).exit();
}
