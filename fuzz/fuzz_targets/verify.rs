//! The receiving side, `verify_snapshot`, on arbitrary bytes in two roles:
//!
//! - as a request body, under its own content key: never a panic; a verdict
//!   is deterministic; an accepted body is JSON with the payload's keys in
//!   contract order, routing both set or both null, scheme `content`.
//! - as the JSON form of an input: whatever `build_snapshot_payload_json`
//!   produces, under either scheme, verifies with that scheme and the body's
//!   own counts and routing; the same body under a changed key, or with a
//!   byte appended, is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tracker_publish::idempotency::content_key;
use tracker_publish::{
    ErrorKind, IdempotencyScheme, PublishOptions, SnapshotReceipt, build_snapshot_payload_json,
    verify_snapshot,
};

const KEYS: [&str; 11] = [
    "provider",
    "workspace",
    "external_resource_type",
    "external_resource_id",
    "doctrine_mode",
    "doctrine_field_owners",
    "project_uuid",
    "project_slug",
    "issues",
    "mappings",
    "checkpoint",
];

/// The receipt says what the body says.
fn check_receipt(r: &SnapshotReceipt, body: &[u8]) {
    let v: Value = serde_json::from_slice(body).expect("an accepted body is JSON");
    let obj = v.as_object().expect("an accepted body is an object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, KEYS, "keys in contract order");
    assert_eq!(v["provider"], r.provider.as_str());
    assert_eq!(v["workspace"], r.workspace.as_str());
    assert_eq!(
        v["external_resource_type"].as_str(),
        r.external_resource_type.as_deref()
    );
    assert_eq!(
        v["external_resource_id"].as_str(),
        r.external_resource_id.as_deref()
    );
    assert_eq!(
        r.external_resource_type.is_some(),
        r.external_resource_id.is_some(),
        "routing both set or both null"
    );
    assert_eq!(v["issues"].as_array().map(Vec::len), Some(r.issues));
    assert_eq!(v["mappings"].as_array().map(Vec::len), Some(r.mappings));
    let expected_len = if r.external_resource_type.is_some() {
        4
    } else {
        2
    };
    assert_eq!(r.routing_key.len(), expected_len, "routing key");
}

fn check_refusal(e: &tracker_publish::PublishError) {
    assert!(!e.message().is_empty(), "empty message ({:?})", e.kind());
    assert!(
        matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::TooLarge),
        "kind {:?}",
        e.kind()
    );
}

fuzz_target!(|data: &[u8]| {
    // As a body.
    let key = content_key(data);
    let first = verify_snapshot(data, &key);
    assert_eq!(first, verify_snapshot(data, &key), "two runs differ");
    match &first {
        Ok(r) => {
            assert_eq!(r.scheme, IdempotencyScheme::Content);
            check_receipt(r, data);
        }
        Err(e) => check_refusal(e),
    }

    // As an input: what the client writes, the receiver accepts.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for scheme in [IdempotencyScheme::V1, IdempotencyScheme::Content] {
        let options = PublishOptions {
            idempotency: scheme,
        };
        let Ok(request) = build_snapshot_payload_json(input, &options) else {
            continue;
        };
        let receipt = verify_snapshot(&request.body, &request.idempotency_key)
            .unwrap_or_else(|e| panic!("a built request is refused: {e}"));
        assert_eq!(receipt.scheme, scheme);
        check_receipt(&receipt, &request.body);

        let mut other_key = request.idempotency_key.clone();
        let last = if other_key.ends_with('0') { "1" } else { "0" };
        other_key.pop();
        other_key.push_str(last);
        let e = verify_snapshot(&request.body, &other_key).expect_err("a changed key");
        assert!(e.message().starts_with("Idempotency-Key: "), "{e}");

        let mut longer = request.body.clone();
        longer.push(b' ');
        let e = verify_snapshot(&longer, &content_key(&longer)).expect_err("a trailing byte");
        check_refusal(&e);
    }
});
