//! The group commit of the PostgreSQL storage: one batch in one
//! transaction on the writer's connection, ordered across instances by the
//! counter row.

use postgres::types::Type;
use postgres::{Client, Config};

use super::super::storage::{Inserted, NewSnapshot, StoreError};
use super::pool::{connect, store_error, unreachable};
use super::schema::{COLUMNS, record};

/// Why a group commit failed.
struct CommitError {
    error: StoreError,
    /// The connection is broken (and is dropped).
    broken: bool,
    /// Something was sent after `BEGIN` was answered.
    started: bool,
}

impl CommitError {
    fn db(e: postgres::Error, started: bool) -> CommitError {
        CommitError {
            error: store_error(&e),
            broken: unreachable(&e),
            started,
        }
    }
}

/// Commits a batch on the writer's connection, (re)connecting as needed.
/// A connection found broken at `BEGIN` (the database restarted while it
/// was idle) is replaced once; a failure later answers the batch 503 or
/// 500, which a publisher's retry resolves through the key.
pub fn commit_batch(
    client: &mut Option<Client>,
    config: &Config,
    batch: &mut [NewSnapshot],
) -> Result<Vec<Inserted>, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let c = match client {
            Some(c) if !c.is_closed() => c,
            _ => client.insert(connect(config)?),
        };
        match commit(c, batch) {
            Ok(out) => return Ok(out),
            Err(e) => {
                if e.broken {
                    *client = None;
                }
                if !(e.broken && !e.started && attempt == 1) {
                    return Err(e.error);
                }
            }
        }
    }
}

/// One group commit.
fn commit(c: &mut Client, batch: &mut [NewSnapshot]) -> Result<Vec<Inserted>, CommitError> {
    let mut tx = c.transaction().map_err(|e| CommitError::db(e, false))?;
    let e = |e| CommitError::db(e, true);
    // The counter row first: it orders the instances' batches.
    let count: i64 = tx
        .query_typed_one(
            "SELECT n FROM counts WHERE name = 'snapshots' FOR UPDATE",
            &[],
        )
        .map_err(e)?
        .get(0);
    let select = tx
        .prepare(&format!(
            "SELECT {COLUMNS} FROM snapshots WHERE idempotency_key = $1"
        ))
        .map_err(e)?;
    let insert = tx
        .prepare(
            "INSERT INTO snapshots (sequence, idempotency_key, body_sha256, routing_key, status, response, body)
             VALUES ($1, $2, $3, $4, 200, $5, $6)",
        )
        .map_err(e)?;
    let mut next = count + 1;
    let mut out = Vec::with_capacity(batch.len());
    for s in batch.iter_mut() {
        if let Some(row) = tx.query_opt(&select, &[&s.idempotency_key]).map_err(e)? {
            let r = record(&row).map_err(|error| CommitError {
                error,
                broken: false,
                started: true,
            })?;
            out.push(Inserted::Exists(r));
            continue;
        }
        let r = s.accept(next as u64);
        let (routing, response) = r.json_columns();
        tx.execute(
            &insert,
            &[
                &next,
                &r.idempotency_key,
                &r.body_sha256,
                &routing,
                &response,
                &s.body,
            ],
        )
        .map_err(e)?;
        next += 1;
        out.push(Inserted::New(r));
    }
    if next > count + 1 {
        tx.query_typed(
            "UPDATE counts SET n = $1 WHERE name = 'snapshots'",
            &[(&(next - 1), Type::INT8)],
        )
        .map_err(e)?;
    }
    tx.commit().map_err(e)?;
    Ok(out)
}
