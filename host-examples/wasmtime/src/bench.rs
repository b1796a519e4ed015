//! `tracker-publish bench`: the figures for one input, measured in this process.

use std::time::Instant;

use anyhow::Context as _;
use tracker_publish::{IdempotencyScheme, PublishOptions};
use tracker_publish_host::{COMPONENT_WASM, Publisher, load_component, typed_input};
use wasmtime::component::Linker;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median seconds of `f` over `n` runs (after one warm-up run).
fn time<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, f64, f64) {
    std::hint::black_box(f());
    let xs: Vec<f64> = (0..n.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    (median(xs), lo, hi)
}

/// Instantiation with the pooling allocator and a pre-instantiated `InstancePre`.
fn instantiate_seconds() -> anyhow::Result<f64> {
    let mut config = tracker_publish_host::config();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(
        PoolingAllocationConfig::default(),
    ));
    let engine = Engine::new(&config)?;
    let component = load_component(&engine)?;
    let linker: Linker<()> = Linker::new(&engine);
    let pre = linker.instantiate_pre(&component)?;
    let mut rounds = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        for _ in 0..100 {
            let mut store = Store::new(&engine, ());
            store.set_epoch_deadline(u64::MAX);
            std::hint::black_box(pre.instantiate(&mut store)?);
        }
        rounds.push(t.elapsed().as_secs_f64() / 100.0);
    }
    Ok(median(rounds))
}

/// Runs every measurement on `input` and returns them as one JSON object.
pub fn run(input: &str, iterations: usize) -> anyhow::Result<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(input).context("--input: not JSON")?;
    let typed = typed_input(&value).context("--input: not a snapshot input")?;
    let mut publisher = Publisher::new()?;
    let request = match publisher.build_json(input, IdempotencyScheme::V1)? {
        Ok(r) => r,
        Err(e) => anyhow::bail!("the input is refused ({}): {}", e.kind(), e.message()),
    };

    let creds: Vec<(String, String)> = typed.credentials.clone();
    let per_batch = 10_000;
    let (routing, _, _) = time(20, || {
        for _ in 0..per_batch {
            std::hint::black_box(publisher.resolve_routing("jira", &creds).ok());
        }
    });
    let (json, json_lo, json_hi) = time(iterations, || {
        publisher.build_json(input, IdempotencyScheme::V1).ok()
    });
    let (typed_s, typed_lo, typed_hi) = time(iterations, || {
        publisher.build_typed(&typed, IdempotencyScheme::V1).ok()
    });
    let options = PublishOptions::default();
    let (native, native_lo, native_hi) = time(iterations, || {
        tracker_publish::build_snapshot_payload_json(input, &options).ok()
    });
    // The receiving side on the same body: guest and native.
    let verified = publisher.verify(&request.body, &request.idempotency_key)?;
    anyhow::ensure!(
        verified.is_ok(),
        "the built body does not verify: {verified:?}"
    );
    let (verify, _, _) = time(iterations, || {
        publisher
            .verify(&request.body, &request.idempotency_key)
            .ok()
    });
    let (verify_native, _, _) = time(iterations, || {
        tracker_publish::verify_snapshot(&request.body, &request.idempotency_key).ok()
    });
    let ms = |s: f64| s * 1e3;
    Ok(serde_json::json!({
        "issues": typed.issues.len(),
        "body_bytes": request.body.len(),
        "iterations": iterations,
        "routing_ns": routing / per_batch as f64 * 1e9,
        "payload_json_ms": ms(json),
        "payload_json_min_ms": ms(json_lo),
        "payload_json_max_ms": ms(json_hi),
        "payload_typed_ms": ms(typed_s),
        "payload_typed_min_ms": ms(typed_lo),
        "payload_typed_max_ms": ms(typed_hi),
        "payload_native_ms": ms(native),
        "payload_native_min_ms": ms(native_lo),
        "payload_native_max_ms": ms(native_hi),
        "verify_ms": ms(verify),
        "verify_native_ms": ms(verify_native),
        "instantiate_us": instantiate_seconds()? * 1e6,
        "component_bytes": COMPONENT_WASM.len(),
    }))
}
