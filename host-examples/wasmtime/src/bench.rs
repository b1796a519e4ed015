//! `tracker-publish bench`: the figures for one input, measured in this process.
//!
//! The payload entry points (wasmtime JSON, wasmtime typed, native Rust) are
//! timed round-robin, one call of each per round, so that noise from other
//! work on the machine falls on all three alike and their ratios hold.

use std::time::Instant;

use anyhow::Context as _;
use tracker_publish::{IdempotencyScheme, PublishOptions};
use tracker_publish_host::{COMPONENT_WASM, Publisher, load_component, typed_input};
use wasmtime::component::Linker;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

/// Median and spread of a set of samples, in the samples' unit.
struct Stats {
    median: f64,
    p25: f64,
    p75: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(mut xs: Vec<f64>) -> Stats {
        xs.sort_by(f64::total_cmp);
        let at = |q: f64| xs[((xs.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p25: at(0.25),
            p75: at(0.75),
            min: xs[0],
            max: xs[xs.len() - 1],
        }
    }

    /// Adds `<name>`, `<name>_p25`, `<name>_p75`, `<name>_min`, `<name>_max`
    /// (the unit is the suffix of `name`, e.g. `_ms`), scaled by `scale`.
    fn put(&self, out: &mut serde_json::Map<String, serde_json::Value>, name: &str, scale: f64) {
        let (stem, unit) = name.rsplit_once('_').unwrap_or((name, ""));
        out.insert(name.into(), (self.median * scale).into());
        for (tag, v) in [
            ("p25", self.p25),
            ("p75", self.p75),
            ("min", self.min),
            ("max", self.max),
        ] {
            out.insert(format!("{stem}_{tag}_{unit}"), (v * scale).into());
        }
    }
}

/// Seconds per call of `f`, over `rounds` batches of `per_batch` calls (after
/// one warm-up batch): batches, so the timer's own cost does not count.
fn per_call(rounds: usize, per_batch: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..per_batch {
        f();
    }
    Stats::of(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..per_batch {
                    f();
                }
                t.elapsed().as_secs_f64() / per_batch as f64
            })
            .collect(),
    )
}

fn seconds<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed().as_secs_f64()
}

/// Instantiation with `strategy` and a pre-instantiated `InstancePre`: one
/// fresh store and instance per sample, as a host serving many requests does.
fn instantiate_seconds(strategy: InstanceAllocationStrategy) -> anyhow::Result<Stats> {
    let mut config = tracker_publish_host::config();
    config.allocation_strategy(strategy);
    let engine = Engine::new(&config)?;
    let component = load_component(&engine)?;
    let linker: Linker<()> = Linker::new(&engine);
    let pre = linker.instantiate_pre(&component)?;
    let mut failed = None;
    let stats = per_call(20, 100, || {
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(u64::MAX);
        if let Err(e) = pre.instantiate(&mut store) {
            failed = Some(e);
        }
    });
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(stats),
    }
}

/// Size of `dist/tracker_publish.wasm` (world `tracker-publish`) when this
/// binary was built; 0 when there was none.
const LEAN_COMPONENT_BYTES: usize = {
    match usize::from_str_radix(env!("TRACKER_PUBLISH_LEAN_BYTES"), 10) {
        Ok(n) => n,
        Err(_) => 0,
    }
};

/// Runs every measurement on `input` and returns them as one JSON object.
pub fn run(input: &str, iterations: usize) -> anyhow::Result<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(input).context("--input: not JSON")?;
    let typed = typed_input(&value).context("--input: not a snapshot input")?;
    let options = PublishOptions::default();

    // Peak guest memory: one call of each entry point on a fresh instance
    // (wasm memory never shrinks, so its size after the call is the peak).
    let mut fresh = Publisher::new()?;
    let request = match fresh.build_json(input, IdempotencyScheme::V1)? {
        Ok(r) => r,
        Err(e) => anyhow::bail!("the input is refused ({}): {}", e.kind(), e.message()),
    };
    let peak_json = fresh.guest_memory_peak_bytes();
    let mut fresh = Publisher::new()?;
    fresh.build_typed(&typed, IdempotencyScheme::V1)?.ok();
    let peak_typed = fresh.guest_memory_peak_bytes();
    drop(fresh);

    let mut publisher = Publisher::new()?;

    // ---- routing: one `resolve-resource-routing` call ----------------------
    let creds: Vec<(String, String)> = typed.credentials.clone();
    let routing = per_call(20, 10_000, || {
        std::hint::black_box(publisher.resolve_routing("jira", &creds).ok());
    });
    let routing_native = per_call(20, 100_000, || {
        std::hint::black_box(tracker_publish::resolve_resource_routing(
            std::hint::black_box("jira"),
            std::hint::black_box(&creds),
        ));
    });

    // ---- payload: both entry points and native, round-robin ----------------
    let json_call = |p: &mut Publisher| p.build_json(input, IdempotencyScheme::V1).ok();
    let typed_call = |p: &mut Publisher| p.build_typed(&typed, IdempotencyScheme::V1).ok();
    let native_call = || tracker_publish::build_snapshot_payload_json(input, &options).ok();
    std::hint::black_box((json_call(&mut publisher), typed_call(&mut publisher)));
    std::hint::black_box(native_call());
    let (mut json, mut typed_s, mut native) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..iterations.max(1) {
        json.push(seconds(|| json_call(&mut publisher)));
        typed_s.push(seconds(|| typed_call(&mut publisher)));
        native.push(seconds(native_call));
    }
    let (json, typed_s, native) = (Stats::of(json), Stats::of(typed_s), Stats::of(native));

    // ---- the receiving side on the same body: guest and native -------------
    let verified = publisher.verify(&request.body, &request.idempotency_key)?;
    anyhow::ensure!(
        verified.is_ok(),
        "the built body does not verify: {verified:?}"
    );
    let (mut verify, mut verify_native) = (Vec::new(), Vec::new());
    for _ in 0..iterations.max(1) {
        verify.push(seconds(|| {
            publisher
                .verify(&request.body, &request.idempotency_key)
                .ok()
        }));
        verify_native.push(seconds(|| {
            tracker_publish::verify_snapshot(&request.body, &request.idempotency_key).ok()
        }));
    }
    let (verify, verify_native) = (Stats::of(verify), Stats::of(verify_native));

    let pooling = instantiate_seconds(InstanceAllocationStrategy::Pooling(
        PoolingAllocationConfig::default(),
    ))?;
    let on_demand = instantiate_seconds(InstanceAllocationStrategy::OnDemand)?;

    let mut out = serde_json::Map::new();
    out.insert("issues".into(), typed.issues.len().into());
    out.insert("input_bytes".into(), input.len().into());
    out.insert("body_bytes".into(), request.body.len().into());
    out.insert("iterations".into(), iterations.into());
    routing.put(&mut out, "routing_ns", 1e9);
    routing_native.put(&mut out, "routing_native_ns", 1e9);
    json.put(&mut out, "payload_json_ms", 1e3);
    typed_s.put(&mut out, "payload_typed_ms", 1e3);
    native.put(&mut out, "payload_native_ms", 1e3);
    verify.put(&mut out, "verify_ms", 1e3);
    verify_native.put(&mut out, "verify_native_ms", 1e3);
    pooling.put(&mut out, "instantiate_us", 1e6);
    on_demand.put(&mut out, "instantiate_on_demand_us", 1e6);
    // The lean component client hosts embed, and the command's full one.
    out.insert("component_bytes".into(), LEAN_COMPONENT_BYTES.into());
    out.insert("component_full_bytes".into(), COMPONENT_WASM.len().into());
    out.insert("peak_guest_memory_bytes".into(), peak_json.into());
    out.insert("peak_guest_memory_typed_bytes".into(), peak_typed.into());
    Ok(serde_json::Value::Object(out))
}
