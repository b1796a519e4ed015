//! The publisher: a loaded component with one instance, each call bounded
//! (see `guard`), and the mapping between the WIT types and the core's.

use anyhow::anyhow;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap};

use tracker_publish::{ErrorKind as Core, IdempotencyScheme};

use crate::error::{Error, ErrorKind};

use crate::engine::{engine, load_component};
use crate::guard::{Guard, Limits, TICK, Ticker};

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

/// A request as the component computed it.
pub type Request = tracker_publish::PublishRequest;

/// Routing as the component resolved it.
pub type Routing = (String, String);

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
        wit::ErrorKind::NotConfigured => Core::NotConfigured.into(),
        wit::ErrorKind::InvalidServerUrl => Core::InvalidServerUrl.into(),
        wit::ErrorKind::InvalidAuthToken => Core::InvalidAuthToken.into(),
        wit::ErrorKind::InvalidInput => Core::InvalidInput.into(),
        wit::ErrorKind::TooLarge => Core::TooLarge.into(),
        wit::ErrorKind::InvalidConfig => ErrorKind::InvalidConfig,
        wit::ErrorKind::InvalidCredentials => ErrorKind::InvalidCredentials,
        wit::ErrorKind::StoreMissing => ErrorKind::StoreMissing,
        wit::ErrorKind::InvalidStore => ErrorKind::InvalidStore,
        wit::ErrorKind::InvalidStoreRow => Core::InvalidStoreRow.into(),
    }
}

fn request(r: Result<wit::PublishRequest, wit::PublishError>) -> Result<Request, Error> {
    match r {
        Ok(r) => Ok(Request {
            endpoint: r.endpoint,
            headers: r.headers,
            body: r.body,
            idempotency_key: r.idempotency_key,
        }),
        Err(e) => Err(Error::new(kind(e.kind), e.message)),
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
    ) -> anyhow::Result<Result<T, Error>> {
        self.arm();
        let r = f(&self.instance, &mut self.store);
        self.recover(r)
    }

    /// After a failed call the instance may be broken: start a fresh one, and
    /// say which bound was hit, if one was.
    fn recover<T>(&mut self, r: wasmtime::Result<T>) -> anyhow::Result<Result<T, Error>> {
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
            return Ok(Err(Error::new(
                Core::TooLarge,
                format!("input: needs more than the guest memory limit of {mib} MiB"),
            )));
        }
        if interrupted {
            let ms = self.limits.call_time.as_millis();
            return Ok(Err(Error::new(
                Core::TooLarge,
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
    ) -> anyhow::Result<Result<Request, Error>> {
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
    ) -> anyhow::Result<Result<Request, Error>> {
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
    ) -> anyhow::Result<Result<Request, Error>> {
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
    ) -> anyhow::Result<Result<tracker_publish::SnapshotReceipt, Error>> {
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
            Err(e) => Err(Error::new(kind(e.kind), e.message)),
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
