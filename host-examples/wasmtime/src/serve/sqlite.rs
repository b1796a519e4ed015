//! The default storage: one SQLite file in the data directory (WAL,
//! `synchronous=FULL`).
//!
//! Writes go through one writer thread ([`super::group_commit`]). Reads use their own connections, which WAL lets run beside
//! the writer. Start-up reads no snapshot, only the schema. Each batch takes
//! its sequences from the table inside its write transaction, so a second
//! process on the same file cannot make two rows share one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::group_commit::Writer;
use super::lock;
use super::storage::{Claim, Inserted, NewSnapshot, Record, Storage, StoreError};

/// The schema this build writes; recorded in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;
/// The database file, under the data directory.
pub const DB_FILE: &str = "serve.sqlite3";

const SCHEMA_V1: &str = "
CREATE TABLE snapshots (
    sequence        INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    body_sha256     TEXT NOT NULL,
    routing_key     TEXT NOT NULL, -- JSON array of strings
    status          INTEGER NOT NULL,
    response        TEXT NOT NULL, -- JSON object
    body            BLOB NOT NULL
);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- How many rows `snapshots` has, kept in the transactions that insert, so
-- that neither start-up nor a listing counts the table.
CREATE TABLE counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO counts (name, n) VALUES ('snapshots', 0);
";

/// SQLite behind [`Storage`].
pub struct Sqlite {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    in_flight: Mutex<HashSet<String>>,
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Failed(format!("sqlite: {e}"))
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    let mode: String = c.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode: {mode}, not WAL"
        )));
    }
    c.pragma_update(None, "synchronous", "FULL")?;
    Ok(c)
}

/// Creates or migrates the schema; refuses a newer one.
fn migrate(c: &mut Connection, path: &Path) -> anyhow::Result<()> {
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    match version {
        0 => {
            let tx = c.transaction()?;
            tx.execute_batch(SCHEMA_V1)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
            Ok(())
        }
        SCHEMA_VERSION => Ok(()),
        v => bail!(
            "{}: schema version {v}, this serve knows up to {SCHEMA_VERSION}",
            path.display()
        ),
    }
}

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(Record {
        sequence: row.get::<_, i64>(0)? as u64,
        idempotency_key: text(1)?,
        body_sha256: text(2)?,
        routing_key: serde_json::from_str(&text(3)?).map_err(|e| json_err(3, e))?,
        status: row.get(4)?,
        response: serde_json::from_str(&text(5)?).map_err(|e| json_err(5, e))?,
    })
}

const COLUMNS: &str = "sequence, idempotency_key, body_sha256, routing_key, status, response";

impl Sqlite {
    /// Opens (creating or migrating) `DIR/serve.sqlite3`, imports a
    /// directory of today's one-file-per-snapshot format if there is one,
    /// and starts the writer.
    pub fn open(data: &Path) -> anyhow::Result<Sqlite> {
        let path = data.join(DB_FILE);
        let mut c = open(&path).with_context(|| format!("{}: cannot open", path.display()))?;
        migrate(&mut c, &path).with_context(|| format!("{}: schema", path.display()))?;
        super::legacy::import(&mut c, data)?;
        let writer = Writer::start("sqlite", move |batch| {
            commit(&mut c, batch)
                .map_err(|e| StoreError::Failed(format!("sqlite: committing failed: {e}")))
        })?;
        Ok(Sqlite {
            path,
            writer,
            readers: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashSet::new()),
        })
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a read connection from the pool.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let pooled = lock(&self.readers).pop();
        let c = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(failed)?;
                c.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(failed)?;
                c
            }
        };
        let out = f(&c).map_err(failed);
        lock(&self.readers).push(c);
        out
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        // Readers first, so the writer's connection is the last and folds
        // the WAL back into the database as it closes.
        lock(&self.readers).clear();
        self.writer.stop();
    }
}

impl Storage for Sqlite {
    fn find(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE idempotency_key = ?1"
            ))?;
            st.query_row([key], record).optional()
        })
    }

    fn claim(&self, key: &str) -> Result<Claim, StoreError> {
        // One process writes the file, so a claim in its memory is a claim.
        if !lock(&self.in_flight).insert(key.to_owned()) {
            return Ok(Claim::InFlight);
        }
        match self.find(key) {
            Ok(None) => Ok(Claim::Held),
            Ok(Some(r)) => {
                self.release(key);
                Ok(Claim::Stored(r))
            }
            Err(e) => {
                self.release(key);
                Err(e)
            }
        }
    }

    fn release(&self, key: &str) {
        lock(&self.in_flight).remove(key);
    }

    fn insert(&self, snapshot: NewSnapshot) -> Result<Inserted, StoreError> {
        self.writer.insert(snapshot)
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_row("SELECT n FROM counts WHERE name = 'snapshots'", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map(|n| n as u64)
    }

    fn page(&self, after: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE sequence > ?1 ORDER BY sequence LIMIT ?2"
            ))?;
            st.query_map(params![after as i64, limit as i64], record)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())))?;
        self.writer.running()
    }
}

/// One group commit.
fn commit(c: &mut Connection, batch: &mut [NewSnapshot]) -> rusqlite::Result<Vec<Inserted>> {
    // Immediate: the write lock first, so the next sequence read here is
    // still the next one at commit, even with another process on the file.
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut next: u64 = tx.query_row(
        "SELECT COALESCE(MAX(sequence), 0) + 1 FROM snapshots",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let mut out = Vec::with_capacity(batch.len());
    for s in batch.iter_mut() {
        let existing = {
            let mut st = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE idempotency_key = ?1"
            ))?;
            st.query_row([&s.idempotency_key], record).optional()?
        };
        if let Some(r) = existing {
            out.push(Inserted::Exists(r));
            continue;
        }
        let r = s.accept(next);
        let (routing, response) = r.json_columns();
        tx.prepare_cached(
            "INSERT INTO snapshots (sequence, idempotency_key, body_sha256, routing_key, status, response, body)
             VALUES (?1, ?2, ?3, ?4, 200, ?5, ?6)",
        )?
        .execute(params![
            r.sequence as i64,
            r.idempotency_key,
            r.body_sha256,
            routing,
            response,
            s.body
        ])?;
        next += 1;
        out.push(Inserted::New(r));
    }
    let added = out.iter().filter(|r| matches!(r, Inserted::New(_))).count();
    if added > 0 {
        add_count(&tx, added)?;
    }
    tx.commit()?;
    Ok(out)
}

/// Adds `n` to the stored count of snapshots, inside the caller's transaction.
pub fn add_count(tx: &rusqlite::Transaction<'_>, n: usize) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE counts SET n = n + ?1 WHERE name = 'snapshots'",
        [n as i64],
    )?;
    Ok(())
}
