//! The tracker-publish component in wasmtime: load it once, call it many times.
//!
//! This crate is a thin adapter. Every rule of the contract lives in the
//! component (`dist/tracker_publish.wasm`); this side only moves strings in
//! and bytes out, and turns a guest failure into an error instead of a crash.
#![deny(missing_docs)]

mod engine;
pub mod error;
mod guard;
mod output;
pub mod project;
mod publisher;

pub use engine::{COMPONENT_WASM, config, engine, load_component};
pub use error::{Error, ErrorKind};
pub use guard::Limits;
pub use output::{error_json, request_json, typed_input};
pub use publisher::{
    Checkpoint, IssueRef, IssueSnapshot, MappingRow, Publisher, Request, Routing, SnapshotInput,
    StoredIssueRow, TrackerScope,
};
