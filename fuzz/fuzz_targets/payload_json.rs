//! Arbitrary bytes as the JSON input of `build_snapshot_payload_json`, under
//! both idempotency schemes, with the invariants every request must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use tracker_publish::json::read_snapshot_input;
use tracker_publish::{
    IdempotencyScheme, PublishOptions, PublishRequest, build_snapshot_payload,
    build_snapshot_payload_json,
};

const SNAPSHOTS_PATH: &str = "/api/v1/connectors/trackers/snapshots/";

fn is_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_ok(r: &PublishRequest, scheme: IdempotencyScheme) {
    // The body is JSON, an object whose first key is "provider".
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!(
            "body is not valid JSON ({e}): {:?}",
            String::from_utf8_lossy(&r.body)
        )
    });
    let obj = body.as_object().expect("body is a JSON object");
    assert_eq!(
        obj.keys().next().map(String::as_str),
        Some("provider"),
        "first key"
    );

    // Headers: Content-Type, Idempotency-Key, then optionally Authorization.
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names == ["Content-Type", "Idempotency-Key"]
            || names == ["Content-Type", "Idempotency-Key", "Authorization"],
        "header names {names:?}"
    );
    for (name, value) in &r.headers {
        assert!(
            value.bytes().all(|b| (0x20..=0x7e).contains(&b)),
            "header {name} has a byte outside 0x20..=0x7E: {value:?}"
        );
    }
    assert_eq!(r.headers[0].1, "application/json");
    assert_eq!(r.headers[1].1, r.idempotency_key);
    if let Some((_, auth)) = r.headers.get(2) {
        let token = auth
            .strip_prefix("Bearer ")
            .expect("Authorization starts with Bearer");
        assert!(!token.is_empty(), "empty bearer token");
    }
    assert!(is_key(&r.idempotency_key), "key {:?}", r.idempotency_key);
    if scheme == IdempotencyScheme::Content {
        assert_eq!(
            r.idempotency_key,
            Sha256::digest(&r.body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }
    assert!(
        r.endpoint.ends_with(SNAPSHOTS_PATH),
        "endpoint {:?}",
        r.endpoint
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut results = Vec::with_capacity(2);
    for scheme in [IdempotencyScheme::V1, IdempotencyScheme::Content] {
        let options = PublishOptions {
            idempotency: scheme,
        };
        let first = build_snapshot_payload_json(input, &options);
        match &first {
            Ok(r) => check_ok(r, scheme),
            Err(e) => assert!(
                !e.message().is_empty(),
                "empty error message ({:?})",
                e.kind()
            ),
        }
        // Deterministic: the same input gives the same result.
        let again = build_snapshot_payload_json(input, &options);
        assert_eq!(first, again, "two runs differ");
        results.push(first);
    }
    // The scheme changes only the key: same verdict, same endpoint and body.
    match (&results[0], &results[1]) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.endpoint, b.endpoint);
            assert_eq!(a.body, b.body);
            assert_eq!(a.headers.len(), b.headers.len());
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("schemes disagree: v1 {a:?}, content {b:?}"),
    }
    // The JSON entry point copies some strings verbatim from the input; the
    // result must be that of the decoded input through the typed entry point.
    let decoded = read_snapshot_input(input)
        .and_then(|i| build_snapshot_payload(&i, &PublishOptions::default()));
    match (&results[0], &decoded) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "JSON and decoded-then-typed differ"),
        (Err(_), _) => {}
        (a, b) => panic!("JSON {a:?} but decoded-then-typed {b:?}"),
    }
});
