// A host that knows the component only through the binary WIT package.
wasmtime::component::bindgen!({ path: "wit/tracker.wasm", world: "tracker-publish" });

use exports::spec_kitty::tracker::publish::{IdempotencyScheme, PublishOptions};
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let engine = wasmtime::Engine::default();
    let path = std::env::args().nth(1).expect("the component's path");
    let component = wasmtime::component::Component::from_file(&engine, path)?;
    let linker = wasmtime::component::Linker::new(&engine);
    let mut store = wasmtime::Store::new(&engine, ());
    let world = TrackerPublish::instantiate(&mut store, &component, &linker)?;
    let api = world.spec_kitty_tracker_publish();
    for line in std::io::stdin().lock().lines() {
        let case: serde_json::Value = serde_json::from_str(&line?)?;
        let input = case["input"].as_str().unwrap_or_default();
        let options = PublishOptions {
            idempotency: IdempotencyScheme::V1,
        };
        let out = match api.call_build_snapshot_payload_json(&mut store, input, options)? {
            Ok(r) => serde_json::json!({
                "name": case["name"], "endpoint": r.endpoint, "headers": r.headers,
                "body": String::from_utf8(r.body)?, "idempotency_key": r.idempotency_key,
            }),
            Err(e) => {
                // Debug names the case (`ErrorKind::InvalidInput`): kebab-case it.
                let debug = format!("{:?}", e.kind);
                let case_name = debug.rsplit("::").next().unwrap_or_default();
                let kind: String = case_name
                    .chars()
                    .enumerate()
                    .flat_map(|(i, c)| {
                        let lower = c.to_ascii_lowercase();
                        if c.is_ascii_uppercase() && i > 0 {
                            vec!['-', lower]
                        } else {
                            vec![lower]
                        }
                    })
                    .collect();
                serde_json::json!({ "name": case["name"], "error": kind })
            }
        };
        println!("{out}");
    }
    Ok(())
}
