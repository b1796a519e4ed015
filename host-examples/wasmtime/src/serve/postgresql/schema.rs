//! The schema of the PostgreSQL storage, its migration, and rows as
//! records.

use anyhow::bail;
use postgres::Client;

use super::super::storage::{Record, StoreError};

/// The schema this build writes; recorded in `serve_schema`.
pub const SCHEMA_VERSION: i32 = 1;
/// The advisory lock (two-int form, a key space apart from the claims')
/// held while the schema is created or migrated.
const MIGRATION_LOCK: (i32, i32) = (0x7470_7562, 1);

const SCHEMA_V1: &str = "
CREATE TABLE snapshots (
    sequence        BIGINT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    body_sha256     TEXT NOT NULL,
    routing_key     TEXT NOT NULL, -- JSON array of strings
    status          INTEGER NOT NULL,
    response        TEXT NOT NULL, -- JSON object, as sent
    body            BYTEA NOT NULL,
    accepted_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- How many rows `snapshots` has; its row is also the lock that orders the
-- instances' commits, so the next sequence is always n + 1.
CREATE TABLE counts (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO counts (name, n) VALUES ('snapshots', 0);
";

pub const COLUMNS: &str = "sequence, idempotency_key, body_sha256, routing_key, status, response";
/// [`COLUMNS`] but the first, of the table aliased `s`.
pub const COLUMNS_S: &str = "s.idempotency_key, s.body_sha256, s.routing_key, s.status, s.response";

/// Creates or migrates the schema; refuses a newer one.
pub fn migrate(c: &mut Client) -> anyhow::Result<()> {
    let mut tx = c.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&MIGRATION_LOCK.0, &MIGRATION_LOCK.1],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS serve_schema (
            version    INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )?;
    let version: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM serve_schema", &[])?
        .get(0);
    match version {
        0 => {
            tx.batch_execute(SCHEMA_V1)?;
            tx.execute(
                "INSERT INTO serve_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )?;
        }
        SCHEMA_VERSION => {}
        v => bail!("schema version {v}, this serve knows up to {SCHEMA_VERSION}"),
    }
    tx.commit()?;
    Ok(())
}

pub fn record(row: &postgres::Row) -> Result<Record, StoreError> {
    record_at(row, 0)
}

/// The record in [`COLUMNS`] from column `at` on.
pub fn record_at(row: &postgres::Row, at: usize) -> Result<Record, StoreError> {
    let json = |i: usize| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(row.get::<_, &str>(at + i))
            .map_err(|e| StoreError::Failed(format!("postgres: stored column {}: {e}", at + i)))
    };
    let routing_key = serde_json::from_value(json(3)?)
        .map_err(|e| StoreError::Failed(format!("postgres: stored routing_key: {e}")))?;
    Ok(Record {
        sequence: row.get::<_, i64>(at) as u64,
        idempotency_key: row.get(at + 1),
        body_sha256: row.get(at + 2),
        routing_key,
        status: row.get::<_, i32>(at + 4) as u16,
        response: json(5)?,
    })
}
