//! Credential values (`tests/credential_values.json`): the core refuses
//! every credential value that is not a string, naming the key, and uses
//! strings as given. The Python package runs the same file.

use serde_json::Value;
use tracker_publish::{PublishOptions, build_snapshot_payload_json};

const TABLE: &str = include_str!("credential_values.json");

#[test]
fn every_credential_value_case() {
    let doc: Value = serde_json::from_str(TABLE).expect("credential_values.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "cases went missing");
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let e = &c["expected"];
        let got = build_snapshot_payload_json(&c["input"].to_string(), &PublishOptions::default());
        match (got, e.get("error")) {
            (Err(err), Some(kind)) => {
                if err.kind().as_str() != kind || err.message() != e["message"] {
                    failures.push(format!("{name}: got {err}"));
                }
                let field = e["field"].as_str().unwrap();
                assert!(err.message().starts_with(&format!("{field}: ")), "{name}");
            }
            (Ok(r), None) => {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                let auth = r
                    .headers
                    .iter()
                    .find(|(n, _)| n == "Authorization")
                    .map(|(_, v)| Value::from(v.as_str()))
                    .unwrap_or(Value::Null);
                let seen = (
                    &body["external_resource_type"],
                    &body["external_resource_id"],
                    &auth,
                );
                let want = (
                    &e["external_resource_type"],
                    &e["external_resource_id"],
                    &e["authorization"],
                );
                if seen != want {
                    failures.push(format!("{name}: got {seen:?}, expected {want:?}"));
                }
            }
            (Ok(_), Some(kind)) => failures.push(format!("{name}: accepted, expected {kind}")),
            (Err(err), None) => failures.push(format!("{name}: refused: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
