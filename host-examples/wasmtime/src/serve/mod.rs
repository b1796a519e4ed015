//! `tracker-publish serve`: an ingest server for snapshots, the receiving side
//! of the contract (section 8).
//!
//! Bodies are checked by the component's `verify-snapshot`, the same code that
//! writes them on the sending side; this module only does HTTP ([`net`] on
//! hyper, [`http`] for requests, responses and problems),
//! the idempotency rules, and storage behind one trait ([`storage`]; SQLite in
//! [`sqlite`], with the import of the old one-file-per-snapshot directory in
//! [`legacy`]; PostgreSQL, for several instances on one database, in
//! [`postgresql`]).
//!
//! Durability: an accepted snapshot and its idempotency record are committed
//! in one transaction before the response is sent; so anything acknowledged
//! survives a kill.

mod group_commit;
mod http;
mod legacy;
mod net;
mod postgresql;
mod signals;
mod sqlite;
mod storage;
mod timeout;

use std::fs::File;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use tracker_publish::idempotency::content_key;
use tracker_publish::request::SNAPSHOTS_PATH;
use tracker_publish::{ErrorKind, SnapshotReceipt};
use tracker_publish_host::Publisher;

use http::{Request, Response, bad_request, json_response, problem, unavailable};
use signals::stop_signals;
use storage::{Claim, Inserted, NewSnapshot, Record, Storage, StoreError};

/// The command line of `serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Directory of the database (serve.sqlite3, created if missing). A
    /// `snapshots/` directory of the one-file-per-snapshot format of earlier
    /// versions is imported on the first start.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "database",
        conflicts_with = "database"
    )]
    pub data: Option<PathBuf>,
    /// A PostgreSQL database instead (`postgres://USER@HOST:PORT/DB` or
    /// `host=... dbname=...`); several instances may share it. The schema is
    /// created or migrated on start.
    #[arg(
        long,
        value_name = "URL",
        env = "TRACKER_PUBLISH_SERVE_DATABASE",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Most connections to PostgreSQL the requests share (one more writes).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub database_connections: u64,
    /// Require `Authorization: Bearer T` on every request, else 401.
    #[arg(
        long,
        value_name = "T",
        env = "TRACKER_PUBLISH_SERVE_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Most open connections (a thread each); past it, a new connection gets
    /// 503 with Retry-After and is closed.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections: u64,
    /// Most requests handled at once; past it, 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_in_flight: u64,
    /// Answer 503 to the first N POST requests.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u64,
    /// Answer 503 to each later POST with probability P (0 to 1), drawn from --seed.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub fail_rate: f64,
    /// Seed of the --fail-rate draws (the same seed fails the same requests).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Hold each POST D milliseconds once its Idempotency-Key is claimed (a slow
    /// server; a second request with that key meanwhile gets 409).
    #[arg(long, value_name = "D", default_value_t = 0)]
    pub delay_ms: u64,
    /// Close the connection without any response for the first N POST requests.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub drop_connection_first: u64,
    /// Seconds a request's head, and then its body, may take to arrive (a
    /// slow or stalled sender): past it the connection is closed (after a
    /// 400 once the head is in).
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout_seconds: u64,
    /// Close a connection whose response makes no progress for S seconds (a
    /// client that stopped reading), freeing its slot.
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout_seconds: u64,
    /// The Retry-After seconds sent with a 503.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub retry_after: u64,
}

fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err("expected a probability from 0 to 1".to_owned()),
    }
}

/// Runs `serve`; exit 2 when it cannot start.
pub fn main(mut args: ServeArgs) -> ExitCode {
    args.token = args.token.filter(|t| !t.is_empty());
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracker-publish: serve: {e:#}");
            ExitCode::from(crate::EXIT_REFUSED)
        }
    }
}

/// Default and largest page of `GET` on the snapshots.
const PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

struct Server {
    opts: ServeArgs,
    store: Box<dyn Storage>,
    publishers: Pool,
    stop: Arc<AtomicBool>,
    requests: AtomicU64,
    posts: AtomicU64,
    in_flight: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop the server from answering.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Component instances for `verify-snapshot`, one per core: a large body
/// being verified does not hold up the others.
struct Pool {
    free: Mutex<Vec<Publisher>>,
    ready: Condvar,
}

impl Pool {
    fn new(n: usize) -> anyhow::Result<Pool> {
        let free = (0..n.max(1))
            .map(|_| Publisher::new())
            .collect::<anyhow::Result<_>>()?;
        Ok(Pool {
            free: Mutex::new(free),
            ready: Condvar::new(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Publisher) -> T) -> T {
        let mut free = lock(&self.free);
        let mut p = loop {
            match free.pop() {
                Some(p) => break p,
                None => free = self.ready.wait(free).unwrap_or_else(|e| e.into_inner()),
            }
        };
        drop(free);
        let out = f(&mut p);
        lock(&self.free).push(p);
        self.ready.notify_one();
        out
    }
}

/// fsync of a directory, so a new entry in it is durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Opens (creating) the SQLite storage of `--data DIR`.
fn open_data(data: &Path) -> anyhow::Result<sqlite::Sqlite> {
    let created = !data.exists();
    std::fs::create_dir_all(data)
        .with_context(|| format!("--data {}: cannot create the directory", data.display()))?;
    let parent = match data.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        p => p,
    };
    if let Some(parent) = parent.filter(|_| created) {
        sync_dir(parent).with_context(|| format!("--data {}", data.display()))?;
    }
    let store = sqlite::Sqlite::open(data).with_context(|| format!("--data {}", data.display()))?;
    let count = store.count().map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "serve: {count} accepted snapshot(s) in {} (schema version {})",
        store.path().display(),
        sqlite::SCHEMA_VERSION
    );
    Ok(store)
}

/// Opens the storage, binds, prints `listening on http://ADDR` as the first
/// line of standard output, and serves until SIGTERM or SIGINT.
fn run(opts: ServeArgs) -> anyhow::Result<()> {
    // Before any thread starts (the storages start some), so that every
    // thread inherits the mask.
    let signals = stop_signals::block();
    let store: Box<dyn Storage> = match (&opts.database, &opts.data) {
        (Some(url), _) => {
            let store = postgresql::Postgres::open(url, opts.database_connections as usize)
                .context("--database")?;
            let count = store
                .count()
                .map_err(|e| anyhow::anyhow!("--database: {e}"))?;
            eprintln!(
                "serve: {count} accepted snapshot(s) in {} (schema version {})",
                store.describe(),
                postgresql::SCHEMA_VERSION
            );
            Box::new(store)
        }
        (None, Some(data)) => Box::new(open_data(data)?),
        (None, None) => anyhow::bail!("--data DIR or --database URL is required"),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let publishers = Pool::new(cores.min(8))?;
    let listener = TcpListener::bind(opts.listen)
        .with_context(|| format!("--listen {}: cannot listen", opts.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!("serve: warning: listening on {addr}, which is not a loopback address");
    }
    let mut out = io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);

    let stop = Arc::new(AtomicBool::new(false));
    let server = Arc::new(Server {
        opts,
        store,
        publishers,
        stop: stop.clone(),
        requests: AtomicU64::new(0),
        posts: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    if let Some(signals) = signals {
        let stop = stop.clone();
        std::thread::spawn(move || stop_signals::watch(signals, &stop, addr));
    }
    // Stopping: requests in flight are finished and answered first; idle
    // persistent connections close.
    net::serve(server.clone(), listener, stop, cores)?;
    // The last reference: the storage's writer commits what is queued.
    drop(server);
    eprintln!("serve: stopped");
    Ok(())
}

/// A number in [0, 1) from the seed and the request number: deterministic,
/// whatever the order threads run in (splitmix64).
fn draw(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Equal, in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A short form of a key for log lines; anything but visible ASCII is shown
/// as `?`, so a hostile key cannot write control sequences into the log.
fn short(key: &str) -> String {
    let cut: String = key
        .chars()
        .take(12)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if cut.len() < key.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// The response for a storage failure: 503 when worth a retry, else 500.
fn store_failed(e: StoreError, retry_after: u64) -> Response {
    match e {
        StoreError::Unavailable(m) => unavailable(
            "storage-unavailable",
            format!("the database is not available: {m}"),
            retry_after,
        ),
        StoreError::Failed(m) => problem(500, "storage", format!("storage: {m}"), json!({})),
    }
}

/// The answer to a request whose key was accepted before: the first
/// response replayed, or 422 for another body.
fn replay(first: &Record, key: &str, body_sha256: &str) -> Response {
    if first.body_sha256 == body_sha256 {
        let mut replay = first.response.clone();
        replay["duplicate"] = json!(true);
        let mut r = json_response(
            first.status,
            &replay,
            format!("duplicate of #{}", first.sequence),
        );
        r.headers.push(("Idempotent-Replayed", "true".to_owned()));
        return r;
    }
    problem(
        422,
        "idempotency-key-reused",
        format!(
            "Idempotency-Key: already used for another body (snapshot {}); an edited snapshot needs a new key (use the content scheme)",
            first.sequence
        ),
        json!({"idempotency_key": key, "sequence": first.sequence}),
    )
}

/// Counts a request in flight while alive.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Server {
    /// The in-flight bound around [`Server::handle`]; the probes bypass it.
    fn bounded(&self, n: u64, req: &Request) -> Option<Response> {
        if req.path == "/healthz" || req.path == "/readyz" {
            return Some(self.probe(req));
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&self.in_flight);
        if now as u64 > self.opts.max_in_flight {
            return Some(unavailable(
                "overloaded",
                format!(
                    "more than {} requests in flight (--max-in-flight); retry later",
                    self.opts.max_in_flight
                ),
                self.opts.retry_after.max(1),
            ));
        }
        self.handle(n, req)
    }

    /// `/healthz`: the process answers. `/readyz`: and its database does.
    fn probe(&self, req: &Request) -> Response {
        if req.method != "GET" {
            let mut r = problem(405, "method-not-allowed", "use GET", json!({}));
            r.headers.push(("Allow", "GET".to_owned()));
            return r;
        }
        if req.path == "/healthz" {
            return json_response(200, &json!({"status": "ok"}), "alive".into());
        }
        match self.store.ping() {
            Ok(()) => json_response(200, &json!({"status": "ready"}), "ready".into()),
            Err(e) => unavailable(
                "not-ready",
                format!("the database is not available: {e}"),
                self.opts.retry_after,
            ),
        }
    }

    /// The response to a request, or `None` to drop the connection.
    fn handle(&self, n: u64, req: &Request) -> Option<Response> {
        if req.path != SNAPSHOTS_PATH {
            return Some(problem(
                404,
                "not-found",
                format!("nothing here; snapshots are at {SNAPSHOTS_PATH}"),
                json!({}),
            ));
        }
        if req.method != "POST" && req.method != "GET" {
            let mut r = problem(
                405,
                "method-not-allowed",
                "use POST to publish or GET to list",
                json!({}),
            );
            r.headers.push(("Allow", "GET, POST".to_owned()));
            return Some(r);
        }
        if req.method == "POST" {
            // Fault injection, for tests of a publisher's retries; POSTs only,
            // so a listing is always there to inspect.
            let k = self.posts.fetch_add(1, Ordering::Relaxed);
            if k < self.opts.drop_connection_first {
                return None;
            }
            let injected = if k < self.opts.fail_first {
                Some("--fail-first")
            } else if self.opts.fail_rate > 0.0 && draw(self.opts.seed, k) < self.opts.fail_rate {
                Some("--fail-rate")
            } else {
                None
            };
            if let Some(why) = injected {
                return Some(unavailable(
                    "unavailable",
                    format!("injected failure ({why})"),
                    self.opts.retry_after,
                ));
            }
        }
        if let Some(token) = &self.opts.token {
            let given = req.header("authorization").unwrap_or("");
            let ok = given.split_once(' ').is_some_and(|(scheme, t)| {
                scheme.eq_ignore_ascii_case("bearer") && same_secret(t.as_bytes(), token.as_bytes())
            });
            if !ok {
                let detail = if given.is_empty() {
                    "Authorization: missing; send Authorization: Bearer <token>"
                } else {
                    "Authorization: not the bearer token this server expects"
                };
                let mut r = problem(401, "unauthorized", detail, json!({}));
                r.headers.push(("WWW-Authenticate", "Bearer".to_owned()));
                return Some(r);
            }
        }
        if req.method == "GET" {
            return Some(self.list(req));
        }
        Some(self.publish(n, req))
    }

    /// `GET`: one page of the accepted snapshots, in order of acceptance
    /// (`?after=SEQUENCE&limit=N`), with the routes of that page.
    fn list(&self, req: &Request) -> Response {
        let number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match req
            .param(name)
        {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    bad_request(format!(
                        "{name}: expected a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ))
                }),
        };
        let (after, limit) = match (
            number("after", 0, 0..=i64::MAX as u64),
            number("limit", PAGE as u64, 1..=MAX_PAGE as u64),
        ) {
            (Ok(a), Ok(l)) => (a, l as usize),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let (total, mut records) = match (self.store.count(), self.store.page(after, limit + 1)) {
            (Ok(t), Ok(p)) => (t, p),
            (Err(e), _) | (_, Err(e)) => return store_failed(e, self.opts.retry_after),
        };
        let more = records.len() > limit;
        records.truncate(limit);
        let next = match records.last() {
            Some(last) if more => json!(format!(
                "{SNAPSHOTS_PATH}?after={}&limit={limit}",
                last.sequence
            )),
            _ => Value::Null,
        };
        let snapshots: Vec<Value> = records
            .iter()
            .map(|r| {
                let mut v = r.response.clone();
                if let Some(o) = v.as_object_mut() {
                    o.shift_remove("duplicate");
                    o.insert("body_sha256".into(), json!(r.body_sha256));
                }
                v
            })
            .collect();
        // Grouped by routing key, in the order each was first seen.
        let mut routes: Vec<(&[String], Vec<u64>)> = Vec::new();
        for r in &records {
            match routes
                .iter_mut()
                .find(|(k, _)| *k == r.routing_key.as_slice())
            {
                Some((_, seqs)) => seqs.push(r.sequence),
                None => routes.push((&r.routing_key, vec![r.sequence])),
            }
        }
        let routes: Vec<Value> = routes
            .into_iter()
            .map(|(k, seqs)| json!({"routing_key": k, "latest": seqs.last(), "sequences": seqs}))
            .collect();
        let body = json!({
            "accepted": total,
            "snapshots": snapshots,
            "routes": routes,
            "next": next,
        });
        json_response(200, &body, format!("{} snapshot(s) listed", records.len()))
    }

    fn publish(&self, n: u64, req: &Request) -> Response {
        let content_type = req.header("content-type").unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") {
            return problem(
                415,
                "unsupported-media-type",
                "Content-Type: expected application/json",
                json!({}),
            );
        }
        let keys: Vec<&str> = req.all("idempotency-key").collect();
        let key = match keys.as_slice() {
            [] | [""] => {
                return problem(
                    400,
                    "idempotency-key-missing",
                    "Idempotency-Key: missing; every snapshot must carry one",
                    json!({}),
                );
            }
            [one] => one.trim_matches('"').to_owned(),
            _ => {
                return problem(
                    400,
                    "idempotency-key-repeated",
                    "Idempotency-Key: given more than once",
                    json!({}),
                );
            }
        };
        let body_sha256 = content_key(&req.body);
        let retry_after = self.opts.retry_after;
        match self.store.find(&key) {
            Ok(Some(first)) => return replay(&first, &key, &body_sha256),
            Ok(None) => {}
            Err(e) => return store_failed(e, retry_after),
        }
        match self.store.claim(&key) {
            Ok(Claim::Held) => {}
            // Accepted between the look-up and the claim: answered as stored.
            Ok(Claim::Stored(first)) => return replay(&first, &key, &body_sha256),
            Ok(Claim::InFlight) => {
                return problem(
                    409,
                    "idempotency-key-in-use",
                    "Idempotency-Key: a request with this key is still being processed; retry later",
                    json!({"idempotency_key": key}),
                );
            }
            Err(e) => return store_failed(e, retry_after),
        }
        let response = self.accept(n, &key, &body_sha256, &req.body);
        self.store.release(&key);
        response
    }

    /// Verifies and stores a snapshot whose key this request holds.
    fn accept(&self, n: u64, key: &str, body_sha256: &str, body: &[u8]) -> Response {
        if self.opts.delay_ms > 0 {
            eprintln!(
                "serve: #{n} holding key={} for {} ms (--delay-ms)",
                short(key),
                self.opts.delay_ms
            );
            std::thread::sleep(Duration::from_millis(self.opts.delay_ms));
        }
        let verdict = self.publishers.with(|p| p.verify(body, key));
        let receipt: SnapshotReceipt = match verdict {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let status = if e.kind() == ErrorKind::TooLarge {
                    413
                } else {
                    400
                };
                let slug = if e.message().starts_with("Idempotency-Key:") {
                    "idempotency-key-mismatch"
                } else {
                    "invalid-snapshot"
                };
                return problem(
                    status,
                    slug,
                    e.message(),
                    json!({"kind": e.kind().as_str()}),
                );
            }
            Err(e) => {
                return problem(
                    500,
                    "internal",
                    format!("verification failed: {e:#}"),
                    json!({}),
                );
            }
        };
        let response = json!({
            "accepted": true,
            "duplicate": false,
            // Set by the storage, in the transaction that stores it.
            "sequence": 0,
            "idempotency_key": key,
            "scheme": receipt.scheme.as_str(),
            "routing_key": receipt.routing_key,
            "provider": receipt.provider,
            "workspace": receipt.workspace,
            "external_resource_type": receipt.external_resource_type,
            "external_resource_id": receipt.external_resource_id,
            "issues": receipt.issues,
            "mappings": receipt.mappings,
        });
        let stored = self.store.insert(NewSnapshot {
            idempotency_key: key.to_owned(),
            body_sha256: body_sha256.to_owned(),
            routing_key: receipt.routing_key.clone(),
            response,
            body: body.to_vec(),
        });
        match stored {
            Ok(Inserted::New(record)) => {
                let note = format!(
                    "accepted #{} scheme={} route=({}) issues={} mappings={}",
                    record.sequence,
                    receipt.scheme.as_str(),
                    receipt.routing_key.join(", "),
                    receipt.issues,
                    receipt.mappings
                );
                json_response(200, &record.response, note)
            }
            Ok(Inserted::Exists(first)) => replay(&first, key, body_sha256),
            Err(e) => store_failed(e, self.opts.retry_after),
        }
    }
}
