//! The credential-values table (`tests/credential_values.json`) through the
//! component in wasmtime: the same rule as the core's and every other
//! host's (a non-string credential value is `invalid-input` naming the key;
//! strings are used as given).

use serde_json::Value;
use tracker_publish::IdempotencyScheme;
use tracker_publish_host::Publisher;

const TABLE: &str = include_str!("../../../tests/credential_values.json");

#[test]
fn every_credential_value_case_through_the_component() {
    let doc: Value = serde_json::from_str(TABLE).expect("credential_values.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "cases went missing");
    let mut publisher = Publisher::new().expect("loading the component");
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().expect("a name");
        let e = &c["expected"];
        let before = failures.len();
        let got = publisher
            .build_json(&c["input"].to_string(), IdempotencyScheme::V1)
            .expect("the component runs");
        match (got, e.get("error")) {
            (Err(err), Some(kind)) => {
                if err.kind().as_str() != kind || err.message() != e["message"] {
                    failures.push(format!("{name}: got {err}"));
                }
            }
            (Ok(r), None) => {
                let body: Value = serde_json::from_slice(&r.body).expect("a JSON body");
                let auth = r
                    .headers
                    .iter()
                    .find(|(n, _)| n == "Authorization")
                    .map(|(_, v)| Value::from(v.as_str()))
                    .unwrap_or(Value::Null);
                let seen = [
                    &body["external_resource_type"],
                    &body["external_resource_id"],
                    &auth,
                ];
                let want = [
                    &e["external_resource_type"],
                    &e["external_resource_id"],
                    &e["authorization"],
                ];
                if seen != want {
                    failures.push(format!("{name}: got {seen:?}, expected {want:?}"));
                }
            }
            (Ok(_), Some(kind)) => failures.push(format!("{name}: accepted, expected {kind}")),
            (Err(err), None) => failures.push(format!("{name}: refused: {err}")),
        }
        let status = if failures.len() == before {
            "ok"
        } else {
            "FAILED"
        };
        println!("credential_values::{name} ... {status}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
