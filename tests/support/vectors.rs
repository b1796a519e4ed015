//! The shared conformance vectors, compiled into every test that runs them.
//!
//! `include_str!` makes a missing file a build failure, and [`cases`] fails
//! when the file holds fewer cases than it did when this was written, so a
//! vector can never be skipped silently.

#![allow(dead_code)]

use serde_json::Value;

/// The vectors file, as shipped in `../shared/conformance/`.
pub const VECTORS: &str = include_str!("../../../shared/conformance/vectors.json");

/// The number of cases the file held when this harness was written; fewer means
/// cases went missing.
pub const MIN_CASES: usize = 34;

/// What a case expects.
#[derive(Clone, Debug)]
pub enum Expected {
    /// A request, exactly.
    Request {
        endpoint: String,
        headers: Vec<(String, String)>,
        body: String,
        idempotency_key: String,
    },
    /// A refusal of this kebab-case kind.
    Error(String),
}

/// One named case.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// The input object.
    pub input: Value,
    /// The input object as JSON text, key order kept.
    pub input_json: String,
    pub expected: Expected,
}

fn s(v: &Value, what: &str) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("vectors.json: {what} is not a string"))
        .to_owned()
}

/// Every case in the file, in order; panics when the file is malformed or short.
pub fn cases() -> Vec<Case> {
    let all: Value = serde_json::from_str(VECTORS).expect("vectors.json is not JSON");
    let list = all.as_array().expect("vectors.json is not a list");
    let cases: Vec<Case> = list
        .iter()
        .map(|c| {
            let name = s(&c["name"], "name");
            let e = &c["expected"];
            let expected = if let Some(kind) = e.get("error") {
                Expected::Error(s(kind, "expected.error"))
            } else {
                Expected::Request {
                    endpoint: s(&e["endpoint"], "endpoint"),
                    headers: e["headers"]
                        .as_array()
                        .expect("headers")
                        .iter()
                        .map(|h| (s(&h[0], "header name"), s(&h[1], "header value")))
                        .collect(),
                    body: s(&e["body"], "body"),
                    idempotency_key: s(&e["idempotency_key"], "idempotency_key"),
                }
            };
            Case {
                input_json: serde_json::to_string(&c["input"]).unwrap(),
                input: c["input"].clone(),
                name,
                expected,
            }
        })
        .collect();
    assert!(
        cases.len() >= MIN_CASES,
        "vectors.json holds {} cases, fewer than the {MIN_CASES} it had: cases went missing",
        cases.len()
    );
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "vectors.json repeats a case name");
    cases
}

/// What a host produced, in the vectors' terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Request {
        endpoint: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        idempotency_key: String,
    },
    Error {
        kind: String,
        message: String,
    },
}

impl From<Result<tracker_publish::PublishRequest, tracker_publish::PublishError>> for Outcome {
    fn from(r: Result<tracker_publish::PublishRequest, tracker_publish::PublishError>) -> Self {
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
}

/// Compares an outcome with a case's expectation; `Err` says what differs.
pub fn check(case: &Case, got: &Outcome) -> Result<(), String> {
    match (&case.expected, got) {
        (
            Expected::Request {
                endpoint,
                headers,
                body,
                idempotency_key,
            },
            Outcome::Request {
                endpoint: e,
                headers: h,
                body: b,
                idempotency_key: k,
            },
        ) => {
            let mut diffs = Vec::new();
            if endpoint != e {
                diffs.push(format!("endpoint: expected {endpoint:?}, got {e:?}"));
            }
            if headers != h {
                diffs.push(format!("headers: expected {headers:?}, got {h:?}"));
            }
            if body.as_bytes() != b.as_slice() {
                diffs.push(format!(
                    "body:\n  expected {body}\n  got      {}",
                    String::from_utf8_lossy(b)
                ));
            }
            if idempotency_key != k {
                diffs.push(format!(
                    "idempotency_key: expected {idempotency_key}, got {k}"
                ));
            }
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(diffs.join("\n"))
            }
        }
        (Expected::Error(kind), Outcome::Error { kind: k, message }) => {
            if kind != k {
                return Err(format!(
                    "expected refusal {kind}, got refusal {k}: {message}"
                ));
            }
            if message.is_empty() {
                return Err("refusal without a message".into());
            }
            // No secret of the input may appear in a refusal.
            for secret in secrets(&case.input) {
                if message.contains(&secret) {
                    return Err(format!("refusal message repeats a secret: {message}"));
                }
            }
            Ok(())
        }
        (Expected::Request { .. }, Outcome::Error { kind, message }) => {
            Err(format!("expected a request, got refusal {kind}: {message}"))
        }
        (Expected::Error(kind), Outcome::Request { .. }) => {
            Err(format!("expected refusal {kind}, got a request"))
        }
    }
}

/// The token and every credential value of an input (at least 6 bytes long,
/// so that a value like "tok" does not match the word "token").
pub fn secrets(input: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = input["auth_token"].as_str() {
        out.push(t.to_owned());
        out.push(t.trim().to_owned());
    }
    if let Some(creds) = input["credentials"].as_object() {
        for v in creds.values().filter_map(Value::as_str) {
            out.push(v.to_owned());
            out.push(v.trim().to_owned());
        }
    }
    out.retain(|s| s.len() >= 6);
    out
}
