//! The engine and the component: one configuration for the precompile step
//! and the command, and the component loaded precompiled when the build
//! made it.

use anyhow::{Context as _, anyhow};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

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
