//! The spec-kitty tracker snapshot publish request, computed once.
//!
//! This crate is the only place that knows the wire contract
//! (`publish-contract.md`): resource routing, the JSON body byte for byte,
//! the idempotency key, the endpoint, the headers and the token rules, and
//! when a failed send is worth retrying ([`retry`]). It does no I/O and reads
//! no clock, so the same code runs natively, as a
//! WebAssembly component with zero imports, and in the browser.
//!
//! ```
//! use tracker_publish::{build_snapshot_payload_json, PublishOptions};
//!
//! let input = r#"{"server_url":"https://example.com","auth_token":null,
//!   "provider":"Jira","workspace":"acme.atlassian.net","doctrine_mode":null,
//!   "doctrine_field_owners":{},"credentials":{"project_key":"ACME"},
//!   "project_uuid":null,"project_slug":null,"issues":[],"mappings":[],
//!   "checkpoint":null}"#;
//! let request = build_snapshot_payload_json(input, &PublishOptions::default()).unwrap();
//! assert_eq!(request.endpoint, "https://example.com/api/v1/connectors/trackers/snapshots/");
//! assert!(request.body.starts_with(br#"{"provider":"jira","workspace":"acme.atlassian.net","external_resource_type":"jira_project""#));
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod error;
pub mod framed;
pub mod idempotency;
mod input;
pub mod json;
pub mod limits;
mod lowercase;
pub mod normalize;
mod payload;
pub mod request;
pub mod retry;
pub mod routing;
pub mod stored;
pub mod verify;

#[cfg(all(feature = "component", target_arch = "wasm32"))]
#[allow(unsafe_code, missing_docs)]
mod component;

#[cfg(all(feature = "component", target_arch = "wasm32"))]
#[allow(unsafe_code)]
mod bump;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[allow(unsafe_code)]
pub mod web;

pub use error::{ErrorKind, PublishError};
pub use framed::{build_snapshot_payload_framed, resolve_resource_routing_framed};
pub use idempotency::IdempotencyScheme;
pub use input::{Checkpoint, IssueRef, IssueSnapshot, MappingRow, Pairs, SnapshotInput, Text};
pub use normalize::normalize_provider;
pub use request::{
    PublishOptions, PublishRequest, build_snapshot_payload, build_snapshot_payload_json,
};
pub use retry::{
    AttemptOutcome, AttemptReport, RetryDecision, RetryOptions, StopReason, decide_retry,
};
pub use routing::{ResourceRouting, resolve_resource_routing};
pub use stored::{
    StoredIssueRow, TrackerScope, issue_from_stored_row, snapshot_from_store, stored_timestamp,
    tracker_scope,
};
pub use verify::{SnapshotReceipt, verify_snapshot};
