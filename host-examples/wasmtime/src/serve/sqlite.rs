//! The default storage: one SQLite file in the data directory (WAL,
//! `synchronous=FULL`).
//!
//! Writes go through one writer thread that commits whatever is waiting in
//! one transaction (group commit): each request is answered only after the
//! transaction holding its record committed, and under load one fsync covers
//! many requests. Reads use their own connections, which WAL lets run beside
//! the writer. Start-up reads no snapshot, only the schema. Each batch takes
//! its sequences from the table inside its write transaction, so a second
//! process on the same file cannot make two rows share one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::storage::{Claim, Inserted, NewSnapshot, Record, Storage, StoreError};

/// The schema this build writes; recorded in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;
/// The database file, under the data directory.
pub const DB_FILE: &str = "serve.sqlite3";
/// Most records in one group commit.
const MAX_BATCH: usize = 512;

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

struct Job {
    snapshot: NewSnapshot,
    reply: Sender<Result<Inserted, StoreError>>,
}

/// SQLite behind [`Storage`].
pub struct Sqlite {
    path: PathBuf,
    writer: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    in_flight: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("serve-sqlite-writer".into())
            .spawn(move || writer(c, rx))?;
        Ok(Sqlite {
            path,
            writer: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
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
        // Closing the channel ends the writer once the queue is committed.
        lock(&self.writer).take();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
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
        let (reply, answer) = mpsc::channel();
        let sent = match lock(&self.writer).as_ref() {
            Some(w) => w.send(Job { snapshot, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Unavailable(
                "sqlite: the writer has stopped".into(),
            ));
        }
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Failed("sqlite: the writer stopped".into())))
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
        if lock(&self.writer).is_none() {
            return Err(StoreError::Unavailable(
                "sqlite: the writer has stopped".into(),
            ));
        }
        Ok(())
    }
}

/// The writer thread: takes every job waiting, commits them in one
/// transaction, then answers each.
fn writer(mut c: Connection, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        match commit(&mut c, &mut batch) {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(e) => {
                let message = format!("sqlite: committing failed: {e}");
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Failed(message.clone())));
                }
            }
        }
    }
}

fn commit(c: &mut Connection, batch: &mut [Job]) -> rusqlite::Result<Vec<Inserted>> {
    // Immediate: the write lock first, so the next sequence read here is
    // still the next one at commit, even with another process on the file.
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut next: u64 = tx.query_row(
        "SELECT COALESCE(MAX(sequence), 0) + 1 FROM snapshots",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let mut out = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        let s = &mut job.snapshot;
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
        let sequence = next;
        s.response["sequence"] = sequence.into();
        let routing = serde_json::to_string(&s.routing_key).unwrap_or_default();
        let response = serde_json::to_string(&s.response).unwrap_or_default();
        tx.prepare_cached(
            "INSERT INTO snapshots (sequence, idempotency_key, body_sha256, routing_key, status, response, body)
             VALUES (?1, ?2, ?3, ?4, 200, ?5, ?6)",
        )?
        .execute(params![
            sequence as i64,
            s.idempotency_key,
            s.body_sha256,
            routing,
            response,
            s.body
        ])?;
        next += 1;
        out.push(Inserted::New(Record {
            sequence,
            idempotency_key: s.idempotency_key.clone(),
            body_sha256: s.body_sha256.clone(),
            routing_key: s.routing_key.clone(),
            status: 200,
            response: s.response.clone(),
        }));
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
