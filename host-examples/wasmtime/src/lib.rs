//! The tracker-publish component in wasmtime: load it once, call it many times.
//!
//! This crate is a thin adapter. Every rule of the contract lives in the
//! component (`dist/tracker_publish.wasm`); this side only moves strings in
//! and bytes out, and turns a guest failure into an error instead of a crash.
#![deny(missing_docs)]

use anyhow::{Context as _, anyhow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};

use tracker_publish::{ErrorKind, IdempotencyScheme, PublishError};

pub mod project;

/// Bindings generated from `wit/` (documented there).
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "tracker-publish-full",
    });
}

use bindings::exports::spec_kitty::tracker::publish as wit;
use bindings::exports::spec_kitty::tracker::store as wit_store;
use bindings::{TrackerPublishFull as TrackerPublish, TrackerPublishFullPre as TrackerPublishPre};

/// The component as built by `make build`.
pub const COMPONENT_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.wasm"));

/// The component precompiled for this wasmtime and this machine's CPU
/// features, or empty when the build made none.
const COMPONENT_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.cwasm"));

/// The engine configuration; the precompile step and the command must agree
/// (compiled code checks the epoch, so a precompiled component needs it on).
pub fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config
}

/// An engine with [`config`].
pub fn engine() -> anyhow::Result<Engine> {
    Ok(Engine::new(&config())?)
}

/// The component: precompiled when the build made it, else compiled now.
pub fn load_component(engine: &Engine) -> anyhow::Result<Component> {
    if !COMPONENT_CWASM.is_empty() {
        // SAFETY: these bytes were written by `Engine::precompile_component`
        // of this crate's own build step (bin/precompile.rs) with `engine()`,
        // and are compiled into this binary; wasmtime still checks that they
        // match this engine's version and settings.
        if let Ok(c) = unsafe { Component::deserialize(engine, COMPONENT_CWASM) } {
            return Ok(c);
        }
    }
    if COMPONENT_WASM.is_empty() {
        return Err(anyhow!(
            "this build has no component: run `make build` (it builds dist/tracker_publish.wasm first)"
        ));
    }
    Component::new(engine, COMPONENT_WASM)
        .map_err(anyhow::Error::from)
        .context("compiling the embedded component")
}

/// A request as the component computed it.
pub type Request = tracker_publish::PublishRequest;

/// Routing as the component resolved it.
pub type Routing = (String, String);

/// Bounds on every call into the guest, so that a guest bug can neither hang
/// nor exhaust the host. A call over a bound is refused as `too-large`, and
/// the next call gets a fresh instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most guest linear memory, in bytes (default 2 GiB: a 256 MiB input,
    /// the largest the component accepts, needs about three times that).
    pub memory_bytes: usize,
    /// Longest one call may run (default 60 s; a 100,000-issue snapshot
    /// takes well under a second).
    pub call_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 2 << 30,
            call_time: Duration::from_secs(60),
        }
    }
}

/// How often the engine's epoch advances; deadlines are counted in ticks.
const TICK: Duration = Duration::from_millis(10);

/// The store's data: the memory bound, whether it was hit, and the largest
/// size the guest's memory was allowed to reach (for `bench`).
struct Guard {
    memory_bytes: usize,
    memory_denied: bool,
    memory_peak: usize,
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes;
        self.memory_denied |= !allowed;
        if allowed {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A share of the one thread that advances an engine's epoch every
/// [`TICK`]: every [`Publisher`] on an engine holds one, and the thread
/// stops when the last is dropped. One thread per engine, not per
/// publisher: each tick advances the epoch of every store on the engine, so
/// two tickers would count a publisher's deadline down twice as fast.
struct Ticker(Engine);

/// The running tickers: an engine, how many publishers share it, and the
/// flag that stops its thread.
static TICKERS: std::sync::Mutex<Vec<(Engine, usize, Arc<AtomicBool>)>> =
    std::sync::Mutex::new(Vec::new());

fn tickers() -> std::sync::MutexGuard<'static, Vec<(Engine, usize, Arc<AtomicBool>)>> {
    // The list stays consistent even if a holder panicked.
    TICKERS.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let mut all = tickers();
        if let Some(entry) = all.iter_mut().find(|(e, _, _)| Engine::same(e, engine)) {
            entry.1 += 1;
        } else {
            let stop = Arc::new(AtomicBool::new(false));
            let (ticking, flag) = (engine.clone(), stop.clone());
            std::thread::spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            });
            all.push((engine.clone(), 1, stop));
        }
        Ticker(engine.clone())
    }

    /// How many ticker threads run for `engine` (0 or 1), for tests.
    fn threads_for(engine: &Engine) -> usize {
        tickers()
            .iter()
            .filter(|(e, _, _)| Engine::same(e, engine))
            .count()
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let mut all = tickers();
        if let Some(i) = all.iter().position(|(e, _, _)| Engine::same(e, &self.0)) {
            all[i].1 -= 1;
            if all[i].1 == 0 {
                all[i].2.store(true, Ordering::Relaxed);
                all.swap_remove(i);
            }
        }
    }
}

/// A loaded component with one instance, reused for every call.
pub struct Publisher {
    store: Store<Guard>,
    pre: TrackerPublishPre<Guard>,
    instance: TrackerPublish,
    limits: Limits,
    _ticker: Ticker,
}

fn scheme(s: IdempotencyScheme) -> wit::PublishOptions {
    wit::PublishOptions {
        idempotency: match s {
            IdempotencyScheme::V1 => wit::IdempotencyScheme::V1,
            IdempotencyScheme::Content => wit::IdempotencyScheme::Content,
        },
    }
}

fn kind(k: wit::ErrorKind) -> ErrorKind {
    match k {
        wit::ErrorKind::NotConfigured => ErrorKind::NotConfigured,
        wit::ErrorKind::InvalidServerUrl => ErrorKind::InvalidServerUrl,
        wit::ErrorKind::InvalidAuthToken => ErrorKind::InvalidAuthToken,
        wit::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
        wit::ErrorKind::TooLarge => ErrorKind::TooLarge,
        wit::ErrorKind::InvalidConfig => ErrorKind::InvalidConfig,
        wit::ErrorKind::InvalidCredentials => ErrorKind::InvalidCredentials,
        wit::ErrorKind::StoreMissing => ErrorKind::StoreMissing,
        wit::ErrorKind::InvalidStore => ErrorKind::InvalidStore,
        wit::ErrorKind::InvalidStoreRow => ErrorKind::InvalidStoreRow,
    }
}

fn request(r: Result<wit::PublishRequest, wit::PublishError>) -> Result<Request, PublishError> {
    match r {
        Ok(r) => Ok(Request {
            endpoint: r.endpoint,
            headers: r.headers,
            body: r.body,
            idempotency_key: r.idempotency_key,
        }),
        Err(e) => Err(PublishError::new(kind(e.kind), e.message)),
    }
}

/// The typed WIT records, re-exported for hosts that build them.
pub use wit::{Checkpoint, IssueRef, IssueSnapshot, MappingRow, SnapshotInput};
pub use wit_store::{StoredIssueRow, TrackerScope};

impl Publisher {
    /// Loads the embedded component and instantiates it, with default [`Limits`].
    pub fn new() -> anyhow::Result<Self> {
        Self::with_limits(Limits::default())
    }

    /// Loads the embedded component and instantiates it with `limits`.
    pub fn with_limits(limits: Limits) -> anyhow::Result<Self> {
        let engine = engine()?;
        let component = load_component(&engine)?;
        Self::from_component(&engine, &component, limits)
    }

    /// Instantiates a loaded component. The component has no imports, so the
    /// linker is empty. `engine` must have epoch interruption on ([`config`]).
    pub fn from_component(
        engine: &Engine,
        component: &Component,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let linker: Linker<Guard> = Linker::new(engine);
        let pre = TrackerPublishPre::new(linker.instantiate_pre(component)?)?;
        let mut store = Self::store(engine, limits);
        let instance = pre.instantiate(&mut store)?;
        Ok(Publisher {
            store,
            pre,
            instance,
            limits,
            _ticker: Ticker::start(engine),
        })
    }

    fn store(engine: &Engine, limits: Limits) -> Store<Guard> {
        let mut store = Store::new(
            engine,
            Guard {
                memory_bytes: limits.memory_bytes,
                memory_denied: false,
                memory_peak: 0,
            },
        );
        store.limiter(|g| g);
        store
    }

    /// Arms the time bound for one call.
    fn arm(&mut self) {
        let ticks = self
            .limits
            .call_time
            .as_millis()
            .div_ceil(TICK.as_millis())
            .max(1);
        self.store
            .set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    }

    /// One call into the guest, within the bounds: arms the deadline, and on a
    /// failure recovers (see [`Self::recover`]).
    fn call<T>(
        &mut self,
        f: impl FnOnce(&TrackerPublish, &mut Store<Guard>) -> wasmtime::Result<T>,
    ) -> anyhow::Result<Result<T, PublishError>> {
        self.arm();
        let r = f(&self.instance, &mut self.store);
        self.recover(r)
    }

    /// After a failed call the instance may be broken: start a fresh one, and
    /// say which bound was hit, if one was.
    fn recover<T>(&mut self, r: wasmtime::Result<T>) -> anyhow::Result<Result<T, PublishError>> {
        let e = match r {
            Ok(v) => return Ok(Ok(v)),
            Err(e) => e,
        };
        let memory = self.store.data().memory_denied;
        let interrupted = e.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
        let mut store = Self::store(self.store.engine(), self.limits);
        if let Ok(instance) = self.pre.instantiate(&mut store) {
            self.store = store;
            self.instance = instance;
        }
        if memory {
            let mib = self.limits.memory_bytes >> 20;
            return Ok(Err(PublishError::new(
                ErrorKind::TooLarge,
                format!("input: needs more than the guest memory limit of {mib} MiB"),
            )));
        }
        if interrupted {
            let ms = self.limits.call_time.as_millis();
            return Ok(Err(PublishError::new(
                ErrorKind::TooLarge,
                format!("input: took longer than the time limit of {ms} ms for one call"),
            )));
        }
        Err(anyhow::Error::from(e)
            .context("the component failed (a bug in tracker-publish, not in your input)"))
    }

    /// `build-snapshot-payload-json`.
    pub fn build_json(
        &mut self,
        input: &str,
        idempotency: IdempotencyScheme,
    ) -> anyhow::Result<Result<Request, PublishError>> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_publish()
                .call_build_snapshot_payload_json(store, input, scheme(idempotency))
        })?;
        Ok(r.and_then(request))
    }

    /// `build-snapshot-payload` with typed records.
    pub fn build_typed(
        &mut self,
        input: &SnapshotInput,
        idempotency: IdempotencyScheme,
    ) -> anyhow::Result<Result<Request, PublishError>> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_publish()
                .call_build_snapshot_payload(store, input, scheme(idempotency))
        })?;
        Ok(r.and_then(request))
    }

    /// `resolve-resource-routing`: (type, id) or none.
    pub fn resolve_routing(
        &mut self,
        provider: &str,
        credentials: &[(String, String)],
    ) -> anyhow::Result<Option<Routing>> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_publish()
                .call_resolve_resource_routing(store, provider, credentials)
        })?;
        let routing = r.map_err(|e| anyhow!("{e}"))?;
        Ok(routing.map(|r| (r.resource_type, r.resource_id)))
    }

    /// `build-snapshot-payload-from-store`: `input` with `issues` empty and the
    /// checkpoint's `updated_since` as stored; the issues from `rows`.
    pub fn build_from_store(
        &mut self,
        input: &SnapshotInput,
        rows: &[StoredIssueRow],
        idempotency: IdempotencyScheme,
    ) -> anyhow::Result<Result<Request, PublishError>> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_store()
                .call_build_snapshot_payload_from_store(store, input, rows, scheme(idempotency))
        })?;
        Ok(r.and_then(request))
    }

    /// `store-scope`: where the project's tracker store lives.
    pub fn store_scope(
        &mut self,
        provider: &str,
        workspace: &str,
        credentials: &[(String, String)],
    ) -> anyhow::Result<TrackerScope> {
        let r = self.call(|guest, store| {
            guest.spec_kitty_tracker_store().call_store_scope(
                store,
                provider,
                workspace,
                credentials,
            )
        })?;
        r.map_err(|e| anyhow!("{e}"))
    }

    /// `verify-snapshot`: the receiving side's check of a body and its key.
    pub fn verify(
        &mut self,
        body: &[u8],
        idempotency_key: &str,
    ) -> anyhow::Result<Result<tracker_publish::SnapshotReceipt, PublishError>> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_receive()
                .call_verify_snapshot(store, body, idempotency_key)
        })?;
        Ok(r.and_then(|r| match r {
            Ok(r) => Ok(tracker_publish::SnapshotReceipt {
                provider: r.provider,
                workspace: r.workspace,
                external_resource_type: r.external_resource_type,
                external_resource_id: r.external_resource_id,
                scheme: match r.scheme {
                    wit::IdempotencyScheme::V1 => IdempotencyScheme::V1,
                    wit::IdempotencyScheme::Content => IdempotencyScheme::Content,
                },
                issues: r.issues as usize,
                mappings: r.mappings as usize,
                routing_key: r.routing_key,
            }),
            Err(e) => Err(PublishError::new(kind(e.kind), e.message)),
        }))
    }

    /// How many epoch-ticker threads run for this publisher's engine: 1,
    /// however many publishers share it.
    pub fn ticker_threads(&self) -> usize {
        Ticker::threads_for(self.store.engine())
    }

    /// The largest size, in bytes, the current instance's linear memory has
    /// grown to (wasm memory never shrinks, so this is its peak so far).
    pub fn guest_memory_peak_bytes(&self) -> usize {
        self.store.data().memory_peak
    }

    /// `normalize-provider`.
    pub fn normalize_provider(&mut self, provider: &str) -> anyhow::Result<String> {
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_publish()
                .call_normalize_provider(store, provider)
        })?;
        r.map_err(|e| anyhow!("{e}"))
    }

    /// `decide-retry`: the retry policy, in the component.
    pub fn decide_retry(
        &mut self,
        report: &tracker_publish::AttemptReport<'_>,
        options: &tracker_publish::RetryOptions,
    ) -> anyhow::Result<tracker_publish::RetryDecision> {
        use tracker_publish::{AttemptOutcome, RetryDecision, StopReason};
        let report = wit::AttemptReport {
            attempt: report.attempt,
            outcome: match report.outcome {
                AttemptOutcome::Status(s) => wit::AttemptOutcome::Status(s),
                AttemptOutcome::ConnectionError => wit::AttemptOutcome::ConnectionError,
                AttemptOutcome::Timeout => wit::AttemptOutcome::Timeout,
            },
            earlier_unanswered: report.earlier_unanswered,
            retry_after: report.retry_after.map(str::to_owned),
            now_unix_ms: report.now_unix_ms,
            random: report.random,
        };
        let options = wit::RetryOptions {
            max_attempts: options.max_attempts,
            base_delay_ms: options.base_delay_ms,
            max_delay_ms: options.max_delay_ms,
        };
        let r = self.call(|guest, store| {
            guest
                .spec_kitty_tracker_publish()
                .call_decide_retry(store, &report, options)
        })?;
        Ok(match r.map_err(|e| anyhow!("{e}"))? {
            wit::RetryDecision::RetryInMs(ms) => RetryDecision::RetryInMs(ms),
            wit::RetryDecision::Stop(why) => RetryDecision::Stop(match why {
                wit::StopReason::Success => StopReason::Success,
                wit::StopReason::NotRetryable => StopReason::NotRetryable,
                wit::StopReason::AttemptsExhausted => StopReason::AttemptsExhausted,
            }),
        })
    }
}

/// The typed WIT records for a JSON input object, as a Rust host that holds
/// typed data would build them (used by `bench` and the tests). This is
/// plumbing only: no rule of the contract is applied here.
pub fn typed_input(v: &serde_json::Value) -> anyhow::Result<SnapshotInput> {
    use serde_json::Value;
    fn t(v: &Value, what: &str) -> anyhow::Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{what}: expected a string"))
    }
    fn o(v: &Value, what: &str) -> anyhow::Result<Option<String>> {
        if v.is_null() {
            Ok(None)
        } else {
            t(v, what).map(Some)
        }
    }
    fn pairs(v: &Value, what: &str) -> anyhow::Result<Vec<(String, String)>> {
        let map = v
            .as_object()
            .ok_or_else(|| anyhow!("{what}: expected an object"))?;
        map.iter()
            .map(|(k, v)| Ok((k.clone(), t(v, what)?)))
            .collect()
    }
    fn list(v: &Value, what: &str) -> anyhow::Result<Vec<String>> {
        let items = v
            .as_array()
            .ok_or_else(|| anyhow!("{what}: expected a list"))?;
        items.iter().map(|s| t(s, what)).collect()
    }
    fn array<'v>(v: &'v Value, what: &str) -> anyhow::Result<&'v Vec<Value>> {
        v.as_array()
            .ok_or_else(|| anyhow!("{what}: expected a list"))
    }
    Ok(SnapshotInput {
        server_url: t(&v["server_url"], "server_url")?,
        auth_token: o(&v["auth_token"], "auth_token")?,
        provider: t(&v["provider"], "provider")?,
        workspace: t(&v["workspace"], "workspace")?,
        doctrine_mode: o(&v["doctrine_mode"], "doctrine_mode")?,
        doctrine_field_owners: pairs(&v["doctrine_field_owners"], "doctrine_field_owners")?,
        credentials: pairs(&v["credentials"], "credentials")?,
        project_uuid: o(&v["project_uuid"], "project_uuid")?,
        project_slug: o(&v["project_slug"], "project_slug")?,
        issues: array(&v["issues"], "issues")?
            .iter()
            .map(|i| {
                let r = &i["ref"];
                Ok(IssueSnapshot {
                    ref_: IssueRef {
                        system: t(&r["system"], "ref.system")?,
                        workspace: t(&r["workspace"], "ref.workspace")?,
                        id: t(&r["id"], "ref.id")?,
                        key: o(&r["key"], "ref.key")?,
                        url: o(&r["url"], "ref.url")?,
                    },
                    title: t(&i["title"], "title")?,
                    body: o(&i["body"], "body")?,
                    status: t(&i["status"], "status")?,
                    issue_type: t(&i["issue_type"], "issue_type")?,
                    priority: i["priority"].as_i64(),
                    assignees: list(&i["assignees"], "assignees")?,
                    labels: list(&i["labels"], "labels")?,
                    updated_at: o(&i["updated_at"], "updated_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        mappings: array(&v["mappings"], "mappings")?
            .iter()
            .map(|m| {
                Ok(MappingRow {
                    wp_id: t(&m["wp_id"], "wp_id")?,
                    system: t(&m["system"], "system")?,
                    workspace: t(&m["workspace"], "workspace")?,
                    external_id: t(&m["external_id"], "external_id")?,
                    external_key: o(&m["external_key"], "external_key")?,
                    external_url: o(&m["external_url"], "external_url")?,
                    created_at: t(&m["created_at"], "created_at")?,
                    updated_at: t(&m["updated_at"], "updated_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        checkpoint: match &v["checkpoint"] {
            Value::Null => None,
            c => Some(Checkpoint {
                cursor: o(&c["cursor"], "checkpoint.cursor")?,
                updated_since: o(&c["updated_since"], "checkpoint.updated_since")?,
            }),
        },
    })
}

/// The request as `preview` prints it: `{"endpoint", "headers", "body",
/// "idempotency_key"}`, with the `Authorization` value masked unless
/// `show_secrets`.
pub fn request_json(r: &Request, show_secrets: bool) -> serde_json::Value {
    let headers: Vec<serde_json::Value> = r
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name.eq_ignore_ascii_case("authorization") && !show_secrets {
                "Bearer ***"
            } else {
                value.as_str()
            };
            serde_json::json!([name, value])
        })
        .collect();
    serde_json::json!({
        "endpoint": r.endpoint,
        "headers": headers,
        "body": String::from_utf8_lossy(&r.body),
        "idempotency_key": r.idempotency_key,
    })
}

/// A refusal as every command prints it: `{"error": {"kind", "message"}}`.
pub fn error_json(e: &PublishError) -> serde_json::Value {
    serde_json::json!({"error": {"kind": e.kind().as_str(), "message": e.message()}})
}
