//! PostgreSQL behind [`Storage`], for several `serve` instances on one
//! database (`--database postgres://...`).
//!
//! - Claims are session advisory locks, so a key in flight in any instance
//!   is in flight for all, and a killed instance's claims end with its
//!   connections.
//! - Writes go through one writer connection per instance that commits
//!   whatever is waiting in one transaction (group commit). Each batch locks
//!   the counter row first, so sequences follow the count without gaps
//!   whichever instance commits.
//! - The schema is created or migrated on start under an advisory lock (two
//!   instances starting at once do it once) and its version is recorded in
//!   `serve_schema`.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, bail};
use postgres::types::Type;
use postgres::{Client, Config, NoTls};

use super::storage::{Claim, Inserted, NewSnapshot, Record, Storage, StoreError};

/// The schema this build writes; recorded in `serve_schema`.
pub const SCHEMA_VERSION: i32 = 1;
/// Most records in one group commit.
const MAX_BATCH: usize = 512;
/// How long a request waits for a free connection before a 503.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long connecting may take before the database counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
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

const COLUMNS: &str = "sequence, idempotency_key, body_sha256, routing_key, status, response";
/// [`COLUMNS`] but the first, of the table aliased `s`.
const COLUMNS_S: &str = "s.idempotency_key, s.body_sha256, s.routing_key, s.status, s.response";

/// Where the database is, without user or password (for messages).
pub fn describe(config: &Config) -> String {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("postgres://{host}:{port}/{db}")
}

/// Whether an error means the database cannot be reached now (503), rather
/// than a fault in what was asked (500).
fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // No server answer at all: I/O, connecting, a timeout.
        None => true,
        Some(c) => {
            let class = &c.code()[..2];
            // Connection exception, insufficient resources, operator
            // intervention (shutdown, cannot connect now).
            matches!(class, "08" | "53" | "57")
        }
    }
}

fn store_error(e: &postgres::Error) -> StoreError {
    // The error's text and causes name neither user nor password.
    let mut m = format!("postgres: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !m.ends_with(&c_text) {
            m.push_str(": ");
            m.push_str(&c_text);
        }
        cause = c.source();
    }
    if unreachable(e) {
        StoreError::Unavailable(m)
    } else {
        StoreError::Failed(m)
    }
}

fn connect(config: &Config) -> Result<Client, StoreError> {
    config.connect(NoTls).map_err(|e| store_error(&e))
}

fn record(row: &postgres::Row) -> Result<Record, StoreError> {
    record_at(row, 0)
}

/// The record in [`COLUMNS`] from column `at` on.
fn record_at(row: &postgres::Row, at: usize) -> Result<Record, StoreError> {
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

/// The advisory lock of a key: 64 bits of its SHA-256 (two keys sharing
/// them would only make one wait for the other: a 409, never a wrong row).
fn lock_id(key: &str) -> i64 {
    let hex = tracker_publish::idempotency::content_key(key.as_bytes());
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0) as i64
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A few connections shared by the requests; a broken one is dropped and
/// a new one made on demand, so the pool recovers when the database does.
struct Pool {
    config: Config,
    size: usize,
    /// Idle connections, and how many exist (idle or lent).
    state: Mutex<(Vec<Client>, usize)>,
    ready: Condvar,
}

/// A connection lent by the pool, and whether it was used before.
struct Lent {
    client: Client,
    reused: bool,
}

impl Pool {
    fn take(&self) -> Result<Lent, StoreError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(client) = state.0.pop() {
                if client.is_closed() {
                    state.1 -= 1;
                    continue;
                }
                return Ok(Lent {
                    client,
                    reused: true,
                });
            }
            if state.1 < self.size {
                state.1 += 1;
                drop(state);
                return match connect(&self.config) {
                    Ok(client) => Ok(Lent {
                        client,
                        reused: false,
                    }),
                    Err(e) => {
                        lock(&self.state).1 -= 1;
                        self.ready.notify_one();
                        Err(e)
                    }
                };
            }
            let (s, timeout) = self
                .ready
                .wait_timeout(state, POOL_WAIT)
                .unwrap_or_else(|e| e.into_inner());
            state = s;
            if timeout.timed_out() && state.0.is_empty() && state.1 >= self.size {
                return Err(StoreError::Unavailable(format!(
                    "postgres: all {} connections busy for {} s",
                    self.size,
                    POOL_WAIT.as_secs()
                )));
            }
        }
    }

    /// Gives a connection back, or forgets it when it is broken.
    fn give(&self, client: Client, broken: bool) {
        let mut state = lock(&self.state);
        if broken || client.is_closed() {
            state.1 -= 1;
        } else {
            state.0.push(client);
        }
        drop(state);
        self.ready.notify_one();
    }

    /// Runs `f` on a pooled connection; a reused connection that turns out
    /// broken (the database restarted meanwhile) is replaced once, which
    /// is safe because `f` only reads or takes session locks.
    fn with<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<(T, Client), StoreError> {
        loop {
            let mut lent = self.take()?;
            match f(&mut lent.client) {
                Ok(v) => return Ok((v, lent.client)),
                Err(e) => {
                    let broken = unreachable(&e);
                    self.give(lent.client, broken);
                    if !(broken && lent.reused) {
                        return Err(store_error(&e));
                    }
                }
            }
        }
    }

    /// [`Pool::with`], giving the connection back at once.
    fn run<T>(
        &self,
        f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let (v, client) = self.with(f)?;
        self.give(client, false);
        Ok(v)
    }
}

struct Job {
    snapshot: NewSnapshot,
    reply: Sender<Result<Inserted, StoreError>>,
}

/// PostgreSQL behind [`Storage`].
pub struct Postgres {
    where_: String,
    pool: Pool,
    /// The connections holding each claimed key's advisory lock.
    claims: Mutex<HashMap<String, Client>>,
    writer: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Postgres {
    /// Connects, creates or migrates the schema, and starts the writer;
    /// `connections` bounds the pool the requests share (the writer has one
    /// more).
    pub fn open(url: &str, connections: usize) -> anyhow::Result<Postgres> {
        let mut config: Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("not a PostgreSQL connection string: {e}"))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        // A database host that vanishes without a reset (a network split)
        // turns into errors, so 503s, within about a minute, not a hang.
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(60));
        }
        // (Two hours is the default: the URL did not set it.)
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config
                .keepalives(true)
                .keepalives_idle(Duration::from_secs(30));
        }
        if config.get_application_name().is_none() {
            config.application_name("tracker-publish serve");
        }
        let where_ = describe(&config);
        let mut writer =
            connect(&config).map_err(|e| anyhow::anyhow!("{where_}: cannot connect: {e}"))?;
        migrate(&mut writer).with_context(|| format!("{where_}: schema"))?;
        let (tx, rx) = mpsc::channel();
        let thread_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("serve-postgres-writer".into())
            .spawn(move || write_loop(Some(writer), &thread_config, rx))?;
        Ok(Postgres {
            where_,
            pool: Pool {
                config,
                size: connections.max(1),
                state: Mutex::new((Vec::new(), 0)),
                ready: Condvar::new(),
            },
            claims: Mutex::new(HashMap::new()),
            writer: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
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

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing the channel ends the writer once the queue is committed.
        lock(&self.writer).take();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

/// Creates or migrates the schema; refuses a newer one.
fn migrate(c: &mut Client) -> anyhow::Result<()> {
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
        let (reply, answer) = mpsc::channel();
        let sent = match lock(&self.writer).as_ref() {
            Some(w) => w.send(Job { snapshot, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Unavailable(
                "postgres: the writer has stopped".into(),
            ));
        }
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Failed("postgres: the writer stopped".into())))
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
        if lock(&self.writer).is_none() {
            return Err(StoreError::Unavailable(
                "postgres: the writer has stopped".into(),
            ));
        }
        Ok(())
    }
}

/// The writer thread: takes every job waiting, commits them in one
/// transaction, then answers each. A broken connection is replaced at the
/// next batch.
fn write_loop(mut client: Option<Client>, config: &Config, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let result = commit_batch(&mut client, config, &mut batch);
        match result {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(e) => {
                for job in batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

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
fn commit_batch(
    client: &mut Option<Client>,
    config: &Config,
    batch: &mut [Job],
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
fn commit(c: &mut Client, batch: &mut [Job]) -> Result<Vec<Inserted>, CommitError> {
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
    for job in batch.iter_mut() {
        let s = &mut job.snapshot;
        if let Some(row) = tx.query_opt(&select, &[&s.idempotency_key]).map_err(e)? {
            let r = record(&row).map_err(|error| CommitError {
                error,
                broken: false,
                started: true,
            })?;
            out.push(Inserted::Exists(r));
            continue;
        }
        let sequence = next;
        s.response["sequence"] = sequence.into();
        let routing = serde_json::to_string(&s.routing_key).unwrap_or_default();
        let response = serde_json::to_string(&s.response).unwrap_or_default();
        tx.execute(
            &insert,
            &[
                &sequence,
                &s.idempotency_key,
                &s.body_sha256,
                &routing,
                &response,
                &s.body,
            ],
        )
        .map_err(e)?;
        next += 1;
        out.push(Inserted::New(Record {
            sequence: sequence as u64,
            idempotency_key: s.idempotency_key.clone(),
            body_sha256: s.body_sha256.clone(),
            routing_key: s.routing_key.clone(),
            status: 200,
            response: s.response.clone(),
        }));
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
