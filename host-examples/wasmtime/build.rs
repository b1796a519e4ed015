//! Embeds the component, and its precompiled form when `make build` made one.
//!
//! `dist/tracker_publish_full.wasm` is the component (world
//! `tracker-publish-full`: publish, store, receive); `target/tracker_publish_full.cwasm`
//! is the same component compiled by the `precompile` binary of this crate.
//! With the precompiled form the command starts without compiling; without it
//! (a plain `cargo build`), it compiles the component at start-up. The two
//! are paired by the component's SHA-256, which `precompile` records in
//! `<cwasm>.sha256`: a precompiled form of any other component is left out.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

// Shared with the precompile step, which writes the stamp.
include!("src/stamp.rs");

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let wasm = std::env::var("TRACKER_PUBLISH_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("dist/tracker_publish_full.wasm"));
    let cwasm = std::env::var("TRACKER_PUBLISH_CWASM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/tracker_publish_full.cwasm"));
    println!("cargo:rerun-if-env-changed=TRACKER_PUBLISH_WASM");
    println!("cargo:rerun-if-env-changed=TRACKER_PUBLISH_CWASM");
    println!("cargo:rerun-if-changed={}", wasm.display());
    println!("cargo:rerun-if-changed={}", cwasm.display());
    // Copies (or empties) each file into OUT_DIR so include_bytes! always has a path.
    let wasm_bytes = std::fs::read(&wasm).unwrap_or_default();
    // The precompiled form is deserialized with `unsafe` (lib.rs), so it is
    // taken only when it was compiled from exactly this component: the
    // precompile step records the component's SHA-256 beside it.
    let stamp = precompile_stamp(&cwasm);
    println!("cargo:rerun-if-changed={}", stamp.display());
    let recorded = std::fs::read_to_string(&stamp).unwrap_or_default();
    let paired = !wasm_bytes.is_empty() && recorded.trim() == component_hash(&wasm_bytes);
    let cwasm_bytes = if paired {
        std::fs::read(&cwasm).unwrap_or_default()
    } else {
        Vec::new()
    };
    std::fs::write(out.join("component.wasm"), wasm_bytes).unwrap();
    // The lean component's size, for `bench` (client hosts embed that one).
    let lean = root.join("dist/tracker_publish.wasm");
    println!("cargo:rerun-if-changed={}", lean.display());
    let lean_bytes = std::fs::metadata(&lean).map(|m| m.len()).unwrap_or(0);
    println!("cargo:rustc-env=TRACKER_PUBLISH_LEAN_BYTES={lean_bytes}");
    std::fs::write(out.join("component.cwasm"), cwasm_bytes).unwrap();
}
