//! What `serve` needs from a database, as one small trait, so the HTTP side
//! and the idempotency rules do not depend on where records live.

use serde_json::Value;

/// One accepted snapshot: its idempotency record and the first response.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Order of acceptance, from 1, without gaps in one database.
    pub sequence: u64,
    /// The `Idempotency-Key` it was accepted under.
    pub idempotency_key: String,
    /// SHA-256 of the body, to tell "same body" from "another body".
    pub body_sha256: String,
    /// Where the snapshot is filed (contract section 8).
    pub routing_key: Vec<String>,
    /// The first response's status, replayed for duplicates.
    pub status: u16,
    /// The first response's JSON body; its `sequence` is this record's.
    pub response: Value,
}

/// A verified snapshot to store; the storage gives it its sequence.
pub struct NewSnapshot {
    /// The key it is accepted under.
    pub idempotency_key: String,
    /// SHA-256 of `body`.
    pub body_sha256: String,
    /// Where it is filed.
    pub routing_key: Vec<String>,
    /// The response, whose `sequence` member the storage sets.
    pub response: Value,
    /// The exact body bytes (verified UTF-8 JSON).
    pub body: Vec<u8>,
}

impl NewSnapshot {
    /// Gives the snapshot `sequence` (in its response too): the record as
    /// it is stored.
    pub fn accept(&mut self, sequence: u64) -> Record {
        self.response["sequence"] = sequence.into();
        Record {
            sequence,
            idempotency_key: self.idempotency_key.clone(),
            body_sha256: self.body_sha256.clone(),
            routing_key: self.routing_key.clone(),
            status: 200,
            response: self.response.clone(),
        }
    }
}

impl Record {
    /// The routing key and the response as the JSON text columns store them.
    pub fn json_columns(&self) -> (String, String) {
        (
            serde_json::to_string(&self.routing_key).unwrap_or_default(),
            serde_json::to_string(&self.response).unwrap_or_default(),
        )
    }
}

/// How an insert ended.
pub enum Inserted {
    /// Stored durably under a new sequence.
    New(Record),
    /// The key was stored meanwhile (another instance): that record.
    Exists(Record),
}

/// Why the storage could not answer.
#[derive(Clone, Debug)]
pub enum StoreError {
    /// The database cannot be reached or is shutting down: worth a retry
    /// (503).
    Unavailable(String),
    /// Anything else (500).
    Failed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(m) | StoreError::Failed(m) => f.write_str(m),
        }
    }
}

/// The answer to claiming a key for a request.
pub enum Claim {
    /// The key is this request's until [`Storage::release`].
    Held,
    /// A request with the key is being processed (here or elsewhere).
    InFlight,
    /// The key was accepted meanwhile (looked up under the claim, which is
    /// given back already): that record.
    Stored(Record),
}

/// The records of accepted snapshots, durable before any answer names them.
pub trait Storage: Send + Sync {
    /// The record stored under `key`, if any.
    fn find(&self, key: &str) -> Result<Option<Record>, StoreError>;
    /// Claims `key` for one request, so that a concurrent request with the
    /// same key gets 409; where several instances share the database, the
    /// claim is in the database. Under the claim, looks the key up again.
    fn claim(&self, key: &str) -> Result<Claim, StoreError>;
    /// Gives a key claimed with [`Claim::Held`] back.
    fn release(&self, key: &str);
    /// Stores a snapshot and commits before returning.
    fn insert(&self, snapshot: NewSnapshot) -> Result<Inserted, StoreError>;
    /// How many snapshots are stored.
    fn count(&self) -> Result<u64, StoreError>;
    /// Up to `limit` records with a sequence above `after`, in order.
    fn page(&self, after: u64, limit: usize) -> Result<Vec<Record>, StoreError>;
    /// Whether the database answers (for `/readyz`).
    fn ping(&self) -> Result<(), StoreError>;
}
