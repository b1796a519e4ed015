//! The host's bounds on the guest: memory and time. A call over a bound is a
//! clean `too-large` refusal, never a crash or a hang, and the publisher keeps
//! working afterwards.

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::time::Duration;

use serde_json::{Value, json};
use tracker_publish::{ErrorKind, IdempotencyScheme};
use tracker_publish_host::{Limits, Publisher};

/// A valid input with `n` copies of one issue.
fn snapshot(n: usize) -> String {
    let case = vectors::cases()
        .into_iter()
        .find(|c| c.name == "issues, mappings and checkpoint")
        .unwrap();
    let mut v: Value = case.input;
    let issue = v["issues"][0].clone();
    v["issues"] = json!(vec![issue; n]);
    v.to_string()
}

fn small() -> String {
    vectors::cases()[0].input_json.clone()
}

#[test]
fn over_the_memory_bound_is_refused_and_the_next_call_works() {
    let mut p = Publisher::with_limits(Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    })
    .unwrap();
    // About 5 MB of input: more than 4 MiB of guest memory just to hold it.
    let e = p
        .build_json(&snapshot(10_000), IdempotencyScheme::V1)
        .expect("a refusal, not a host error")
        .expect_err("over the memory bound");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(
        e.message().contains("memory limit of 4 MiB"),
        "{}",
        e.message()
    );
    // A fresh instance serves the next call.
    let ok = p.build_json(&small(), IdempotencyScheme::V1).unwrap();
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn over_the_time_bound_is_refused_not_waited_for() {
    let mut p = Publisher::with_limits(Limits {
        call_time: Duration::from_millis(1),
        ..Limits::default()
    })
    .unwrap();
    // 200,000 issues take far more than one epoch tick (10 ms) in any build.
    let input = snapshot(200_000);
    let e = p
        .build_json(&input, IdempotencyScheme::V1)
        .expect("a refusal, not a host error")
        .expect_err("over the time bound");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(
        e.message().contains("time limit of 1 ms"),
        "{}",
        e.message()
    );
}

#[test]
fn default_bounds_let_a_large_snapshot_through() {
    let mut p = Publisher::new().unwrap();
    let r = p
        .build_json(&snapshot(100_000), IdempotencyScheme::V1)
        .unwrap();
    let request = r.expect("100,000 issues are within the default bounds");
    assert!(
        request.body.len() > 30_000_000,
        "{} bytes",
        request.body.len()
    );
}

#[test]
fn guest_memory_is_reused_from_call_to_call() {
    // The component's allocator starts over once a call's result is freed:
    // many calls, refusals and every entry point in between, must not grow
    // the guest's memory past what the first large call needed.
    let mut p = Publisher::new().unwrap();
    let input = snapshot(2_000);
    let first = p
        .build_json(&input, IdempotencyScheme::V1)
        .unwrap()
        .unwrap();
    let peak = p.guest_memory_peak_bytes();
    assert!(peak > 0);
    for round in 0..30 {
        let again = p
            .build_json(&input, IdempotencyScheme::Content)
            .unwrap()
            .unwrap();
        assert_eq!(again.body, first.body, "round {round}");
        p.build_json(r#"{"server_url": 1}"#, IdempotencyScheme::V1)
            .unwrap()
            .expect_err("a refusal");
        p.build_json(&small(), IdempotencyScheme::V1)
            .unwrap()
            .unwrap();
        p.resolve_routing("jira", &[("project_key".into(), "ACME".into())])
            .unwrap();
        p.normalize_provider(" Jira ").unwrap();
    }
    assert_eq!(p.guest_memory_peak_bytes(), peak, "the guest memory grew");
}

#[test]
fn one_epoch_ticker_per_engine_however_many_publishers() {
    // Two tickers on one engine would halve every publisher's time bound.
    let engine = tracker_publish_host::engine().unwrap();
    let component = tracker_publish_host::load_component(&engine).unwrap();
    let a = Publisher::from_component(&engine, &component, Limits::default()).unwrap();
    let b = Publisher::from_component(&engine, &component, Limits::default()).unwrap();
    assert_eq!(a.ticker_threads(), 1);
    assert_eq!(b.ticker_threads(), 1);
    drop(a);
    assert_eq!(b.ticker_threads(), 1, "the ticker outlives one publisher");
    drop(b);
    let c = Publisher::from_component(&engine, &component, Limits::default()).unwrap();
    assert_eq!(
        c.ticker_threads(),
        1,
        "a new ticker once the last one stopped"
    );
    // Another engine has its own.
    let other = tracker_publish_host::engine().unwrap();
    let d = Publisher::from_component(
        &other,
        &tracker_publish_host::load_component(&other).unwrap(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(d.ticker_threads(), 1);
    assert_eq!(c.ticker_threads(), 1);
}
