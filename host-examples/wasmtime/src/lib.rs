//! The tracker-publish component in wasmtime: load it once, call it many times.
//!
//! This crate is a thin adapter. Every rule of the contract lives in the
//! component (`dist/tracker_publish.wasm`); this side only moves strings in
//! and bytes out, and turns a guest failure into an error instead of a crash.
#![deny(missing_docs)]

use anyhow::{Context as _, anyhow};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

use tracker_publish::{ErrorKind, IdempotencyScheme, PublishError};

/// Bindings generated from `wit/` (documented there).
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "tracker-publish",
    });
}

use bindings::{TrackerPublish, TrackerPublishPre};
use bindings::exports::spec_kitty::tracker::publish as wit;

/// The component as built by `make build`.
pub const COMPONENT_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.wasm"));

/// The component precompiled for this wasmtime and this machine's CPU
/// features, or empty when the build made none.
const COMPONENT_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.cwasm"));

/// The engine configuration; the precompile step and the command must agree.
pub fn engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Ok(Engine::new(&config)?)
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
    Ok(Component::new(engine, COMPONENT_WASM).map_err(anyhow::Error::from).context("compiling the embedded component")?)
}

/// A request as the component computed it.
pub type Request = tracker_publish::PublishRequest;

/// Routing as the component resolved it.
pub type Routing = (String, String);

/// A loaded component with one instance, reused for every call.
pub struct Publisher {
    store: Store<()>,
    pre: TrackerPublishPre<()>,
    instance: TrackerPublish,
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

impl Publisher {
    /// Loads the embedded component and instantiates it.
    pub fn new() -> anyhow::Result<Self> {
        let engine = engine()?;
        let component = load_component(&engine)?;
        Self::from_component(&engine, &component)
    }

    /// Instantiates a loaded component. The component has no imports, so the
    /// linker is empty.
    pub fn from_component(engine: &Engine, component: &Component) -> anyhow::Result<Self> {
        let linker: Linker<()> = Linker::new(engine);
        let pre = TrackerPublishPre::new(linker.instantiate_pre(component)?)?;
        let mut store = Store::new(engine, ());
        let instance = pre.instantiate(&mut store)?;
        Ok(Publisher { store, pre, instance })
    }

    /// After a trap the instance may be broken: start a fresh one.
    fn recover<T>(&mut self, r: wasmtime::Result<T>) -> anyhow::Result<T> {
        if r.is_err() {
            let mut store = Store::new(self.store.engine(), ());
            if let Ok(instance) = self.pre.instantiate(&mut store) {
                self.store = store;
                self.instance = instance;
            }
        }
        r.map_err(anyhow::Error::from)
            .context("the component failed (a bug in tracker-publish, not in your input)")
    }

    /// `build-snapshot-payload-json`.
    pub fn build_json(&mut self, input: &str, idempotency: IdempotencyScheme) -> anyhow::Result<Result<Request, PublishError>> {
        let r = self
            .instance
            .spec_kitty_tracker_publish()
            .call_build_snapshot_payload_json(&mut self.store, input, scheme(idempotency));
        self.recover(r).map(request)
    }

    /// `build-snapshot-payload` with typed records.
    pub fn build_typed(&mut self, input: &SnapshotInput, idempotency: IdempotencyScheme) -> anyhow::Result<Result<Request, PublishError>> {
        let r = self
            .instance
            .spec_kitty_tracker_publish()
            .call_build_snapshot_payload(&mut self.store, input, scheme(idempotency));
        self.recover(r).map(request)
    }

    /// `resolve-resource-routing`: (type, id) or none.
    pub fn resolve_routing(&mut self, provider: &str, credentials: &[(String, String)]) -> anyhow::Result<Option<Routing>> {
        let r = self
            .instance
            .spec_kitty_tracker_publish()
            .call_resolve_resource_routing(&mut self.store, provider, credentials);
        self.recover(r).map(|o| o.map(|r| (r.resource_type, r.resource_id)))
    }

    /// `normalize-provider`.
    pub fn normalize_provider(&mut self, provider: &str) -> anyhow::Result<String> {
        let r = self
            .instance
            .spec_kitty_tracker_publish()
            .call_normalize_provider(&mut self.store, provider);
        self.recover(r)
    }
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
