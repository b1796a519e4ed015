//! The credential-values table (`tests/credential_values.json`), read and
//! checked once for every Rust test that runs it (natively and through the
//! component): a non-string credential value is `invalid-input` naming the
//! key, strings are used as given.

#![allow(dead_code)]

use serde_json::Value;

/// The table, compiled into each test that runs it.
pub const TABLE: &str = include_str!("../credential_values.json");

/// One named case.
pub struct Case {
    pub name: String,
    /// The input object as JSON text.
    pub input_json: String,
    expected: Value,
}

/// What a host produced for a case.
pub enum Got<'a> {
    Refused {
        kind: &'a str,
        message: &'a str,
    },
    Request {
        body: &'a [u8],
        headers: &'a [(String, String)],
    },
}

/// Every case; panics when the file is malformed or cases went missing.
pub fn cases() -> Vec<Case> {
    let doc: Value = serde_json::from_str(TABLE).expect("credential_values.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "cases went missing");
    cases
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("a name").to_owned(),
            input_json: c["input"].to_string(),
            expected: c["expected"].clone(),
        })
        .collect()
}

/// Compares what a host produced with the case; `Err` says what differs.
pub fn check(case: &Case, got: Got<'_>) -> Result<(), String> {
    let (name, e) = (&case.name, &case.expected);
    match (got, e.get("error")) {
        (Got::Refused { kind, message }, Some(want)) => {
            let field = e["field"].as_str().expect("a field");
            if kind != want
                || message != e["message"]
                || !message.starts_with(&format!("{field}: "))
            {
                return Err(format!("{name}: got {kind}: {message}"));
            }
            Ok(())
        }
        (Got::Request { body, headers }, None) => {
            let body: Value = serde_json::from_slice(body).expect("a JSON body");
            let auth = headers
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
                return Err(format!("{name}: got {seen:?}, expected {want:?}"));
            }
            Ok(())
        }
        (Got::Request { .. }, Some(kind)) => Err(format!("{name}: accepted, expected {kind}")),
        (Got::Refused { kind, message }, None) => {
            Err(format!("{name}: refused: {kind}: {message}"))
        }
    }
}

/// Runs `check` on every case, printing each by name; fails listing every miss.
pub fn run_all(mut run: impl FnMut(&Case) -> Result<(), String>) {
    let mut failures = Vec::new();
    for case in cases() {
        let r = run(&case);
        println!(
            "credential_values::{} ... {}",
            case.name,
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        failures.extend(r.err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
