//! PostgreSQL behind [`Storage`], for several `serve` instances on one
//! database (`--database postgres://...`).
//!
//! - Claims are session advisory locks, so a key in flight in any instance
//!   is in flight for all, and a killed instance's claims end with its
//!   connections.
//! - Writes go through one writer connection per instance that commits
//!   whatever is waiting in one transaction ([`super::group_commit`],
//!   [`commit`]). Each batch locks the counter row first, so sequences
//!   follow the count without gaps whichever instance commits.
//! - The schema is created or migrated on start under an advisory lock (two
//!   instances starting at once do it once) and its version is recorded in
//!   `serve_schema` ([`schema`]).
//! - The requests share a pool of connections ([`pool`]).

mod commit;
mod pool;
mod schema;

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context as _;
use postgres::Client;
use postgres::types::Type;

use super::group_commit::Writer;
use super::lock;
use super::storage::{Claim, Inserted, NewSnapshot, Record, Storage, StoreError};
use pool::{Pool, connect, describe};
pub use schema::SCHEMA_VERSION;
use schema::{COLUMNS, COLUMNS_S, migrate, record, record_at};

/// The advisory lock of a key: 64 bits of its SHA-256 (two keys sharing
/// them would only make one wait for the other: a 409, never a wrong row).
fn lock_id(key: &str) -> i64 {
    let hex = tracker_publish::idempotency::content_key(key.as_bytes());
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0) as i64
}

/// PostgreSQL behind [`Storage`].
pub struct Postgres {
    where_: String,
    pool: Pool,
    /// The connections holding each claimed key's advisory lock.
    claims: Mutex<HashMap<String, Client>>,
    writer: Writer,
}

impl Postgres {
    /// Connects, creates or migrates the schema, and starts the writer;
    /// `connections` bounds the pool the requests share (the writer has one
    /// more).
    pub fn open(url: &str, connections: usize) -> anyhow::Result<Postgres> {
        let config = pool::config(url)?;
        let where_ = describe(&config);
        let mut writer =
            connect(&config).map_err(|e| anyhow::anyhow!("{where_}: cannot connect: {e}"))?;
        migrate(&mut writer).with_context(|| format!("{where_}: schema"))?;
        // A broken writer connection is replaced at the next batch.
        let mut client = Some(writer);
        let writer_config = config.clone();
        let writer = Writer::start("postgres", move |batch| {
            commit::commit_batch(&mut client, &writer_config, batch)
        })?;
        Ok(Postgres {
            where_,
            pool: Pool::new(config, connections),
            claims: Mutex::new(HashMap::new()),
            writer,
        })
    }

    /// Where the database is, without credentials.
    pub fn describe(&self) -> &str {
        &self.where_
    }

    // Statements on pooled connections are typed: one round trip each,
    // where an untyped one would prepare, execute and close (three).
    fn find_on(c: &mut Client, key: &str) -> Result<Option<postgres::Row>, postgres::Error> {
        c.query_typed_opt(
            &format!("SELECT {COLUMNS} FROM snapshots WHERE idempotency_key = $1"),
            &[(&key, Type::TEXT)],
        )
    }

    fn unlock(c: &mut Client, id: i64) -> Result<(), postgres::Error> {
        c.query_typed_one("SELECT pg_advisory_unlock($1)", &[(&id, Type::INT8)])
            .map(|_| ())
    }
}

impl Storage for Postgres {
    fn find(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.pool
            .run(|c| Self::find_on(c, key))?
            .map(|r| record(&r))
            .transpose()
    }

    fn claim(&self, key: &str) -> Result<Claim, StoreError> {
        let id = lock_id(key);
        // The lock and the look-up in one statement. Its snapshot may
        // predate the lock, so a row committed just before could be missed;
        // the writer looks again under its own lock, so that only costs a
        // verification, never a second accept.
        let (row, mut client) = self.pool.with(|c| {
            c.query_typed_one(
                &format!(
                    "WITH l AS (SELECT pg_try_advisory_lock($1) AS held)
                     SELECT l.held, s.sequence, {COLUMNS_S} FROM l
                     LEFT JOIN snapshots s ON l.held AND s.idempotency_key = $2"
                ),
                &[(&id, Type::INT8), (&key, Type::TEXT)],
            )
        })?;
        if !row.get::<_, bool>(0) {
            self.pool.give(client, false);
            return Ok(Claim::InFlight);
        }
        if row.get::<_, Option<i64>>(1).is_some() {
            let unlocked = Self::unlock(&mut client, id);
            self.pool.give(client, unlocked.is_err());
            return Ok(Claim::Stored(record_at(&row, 1)?));
        }
        if let Some(old) = lock(&self.claims).insert(key.to_owned(), client) {
            // Cannot happen (the lock is exclusive per session, and each
            // claim has its own); dropping it ends its session.
            drop(old);
        }
        Ok(Claim::Held)
    }

    fn release(&self, key: &str) {
        let Some(mut client) = lock(&self.claims).remove(key) else {
            return;
        };
        let unlocked = Self::unlock(&mut client, lock_id(key));
        // On error the connection is dropped, and its session's locks go
        // with it.
        self.pool.give(client, unlocked.is_err());
    }

    fn insert(&self, snapshot: NewSnapshot) -> Result<Inserted, StoreError> {
        self.writer.insert(snapshot)
    }

    fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.pool.run(|c| {
            Ok(
                c.query_typed_one("SELECT n FROM counts WHERE name = 'snapshots'", &[])?
                    .get(0),
            )
        })?;
        Ok(n as u64)
    }

    fn page(&self, after: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        let rows = self.pool.run(|c| {
            c.query_typed(
                &format!(
                    "SELECT {COLUMNS} FROM snapshots WHERE sequence > $1 ORDER BY sequence LIMIT $2"
                ),
                &[(&(after as i64), Type::INT8), (&(limit as i64), Type::INT8)],
            )
        })?;
        rows.iter().map(record).collect()
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.pool.run(|c| c.simple_query("SELECT 1").map(|_| ()))?;
        self.writer.running()
    }
}
