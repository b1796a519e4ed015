//! Every shared conformance vector through the wasm-bindgen export, in
//! headless Chromium (`make test-web-bindgen`): the input crosses into the
//! module as a JavaScript string and the answer is read back from the
//! JavaScript object the page gets (headers as arrays, the body as a
//! `Uint8Array`, a refusal as a thrown `PublishError` with `kind`).
//!
//! Only for wasm32 with the `web` feature; natively this file is empty.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use support::vectors::{Expected, MIN_CASES, Outcome, cases, check};
use tracker_publish::web;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).expect("property")
}

fn string(v: JsValue, what: &str) -> String {
    v.as_string()
        .unwrap_or_else(|| panic!("{what} is not a string"))
}

/// The JavaScript answer, in the vectors' terms.
fn outcome(r: Result<JsValue, JsValue>) -> Outcome {
    match r {
        Ok(o) => Outcome::Request {
            endpoint: string(get(&o, "endpoint"), "endpoint"),
            headers: Array::from(&get(&o, "headers"))
                .iter()
                .map(|h| {
                    let h = Array::from(&h);
                    (
                        string(h.get(0), "header name"),
                        string(h.get(1), "header value"),
                    )
                })
                .collect(),
            body: get(&o, "body")
                .dyn_into::<Uint8Array>()
                .expect("body is a Uint8Array")
                .to_vec(),
            idempotency_key: string(get(&o, "idempotencyKey"), "idempotencyKey"),
        },
        Err(e) => {
            assert!(e.is_instance_of::<js_sys::Error>(), "a refusal is an Error");
            assert_eq!(string(get(&e, "name"), "name"), "PublishError");
            Outcome::Error {
                kind: string(get(&e, "kind"), "kind"),
                message: string(get(&e, "message"), "message"),
            }
        }
    }
}

#[wasm_bindgen_test]
fn every_shared_vector() {
    let cases = cases();
    let mut ran = 0;
    let mut failed = Vec::new();
    for case in &cases {
        let input = JsString::from(case.input_json.as_str());
        let got = outcome(web::build_snapshot_payload_json(&input, None));
        let mut result = check(case, &got);
        // The routing the page shows must be the one the body carries.
        if let (Ok(()), Expected::Request { body, .. }) = (&result, &case.expected) {
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            let o = web::build_snapshot_payload_json(&input, Some("v1".into())).unwrap();
            let routing = get(&o, "routing");
            let shown = if routing.is_null() {
                serde_json::Value::Null
            } else {
                string(get(&routing, "resourceType"), "resourceType").into()
            };
            if shown != body["external_resource_type"] {
                result = Err(format!(
                    "routing: body says {}, export says {shown}",
                    body["external_resource_type"]
                ));
            }
        }
        match result {
            Ok(()) => console_log!("ok   web::{}", case.name),
            Err(why) => {
                console_log!("FAIL web::{}: {why}", case.name);
                failed.push(case.name.clone());
            }
        }
        ran += 1;
    }
    console_log!("{ran} cases ran through the wasm-bindgen export");
    assert!(failed.is_empty(), "failed: {failed:?}");
    assert!(
        ran >= MIN_CASES,
        "only {ran} cases ran, fewer than {MIN_CASES}"
    );
}

#[wasm_bindgen_test]
fn content_scheme_and_bad_scheme() {
    let case = &cases()[0];
    let input = JsString::from(case.input_json.as_str());
    let o = web::build_snapshot_payload_json(&input, Some("content".into())).unwrap();
    let body = get(&o, "body").dyn_into::<Uint8Array>().unwrap().to_vec();
    let key = string(get(&o, "idempotencyKey"), "idempotencyKey");
    let want = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
    assert_eq!(key, want, "content key is the SHA-256 of the body bytes");

    match outcome(web::build_snapshot_payload_json(&input, Some("v2".into()))) {
        Outcome::Error { kind, message } => {
            assert_eq!(kind, "invalid-input");
            assert!(message.starts_with("options.idempotency"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn lone_surrogate_is_refused_not_replaced() {
    // "\uD800" as a JavaScript string: a lone surrogate.
    let input = JsString::from_char_code1(0xD800);
    match outcome(web::build_snapshot_payload_json(&input, None)) {
        Outcome::Error { kind, message } => {
            assert_eq!(kind, "invalid-input");
            assert!(message.starts_with("input:"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn routing_and_provider_exports() {
    assert_eq!(
        string(
            web::normalize_provider(&" Azure ".into()).unwrap().into(),
            "p"
        ),
        "azure_devops"
    );
    let creds = Object::new();
    Reflect::set(&creds, &"project_key".into(), &" ACME ".into()).unwrap();
    let r = web::resolve_resource_routing(&"jira".into(), &creds).unwrap();
    assert_eq!(string(get(&r, "resourceType"), "t"), "jira_project");
    assert_eq!(string(get(&r, "resourceId"), "id"), "ACME");
    // As in the CLI, the provider is taken as already normalised.
    assert!(
        web::resolve_resource_routing(&"Jira".into(), &creds)
            .unwrap()
            .is_null()
    );
    Reflect::set(&creds, &"team_id".into(), &JsValue::from_f64(7.0)).unwrap();
    match outcome(web::resolve_resource_routing(&"linear".into(), &creds)) {
        Outcome::Error { kind, message } => {
            assert_eq!(kind, "invalid-input");
            assert_eq!(message, "credentials[\"team_id\"]: expected a string");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
