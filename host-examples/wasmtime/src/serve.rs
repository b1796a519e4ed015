//! `tracker-publish serve`: an ingest server for snapshots, the receiving side
//! of the contract (section 8), for demos, tests and as a reference.
//!
//! Bodies are checked by the component's `verify-snapshot`, the same code that
//! writes them on the sending side; this module only does HTTP, idempotency
//! records and storage.
//!
//! HTTP is a minimal HTTP/1.1 on `std::net`, one thread per connection, one
//! request per connection (`Connection: close`), `Content-Length` bodies only
//! (chunked is refused with 501). That is all a publisher sends, and it keeps
//! the server free of an async runtime and a framework's dependency tree.
//!
//! Durability: an accepted snapshot and its idempotency record are one file,
//! written to a temporary name, fsynced, renamed and the directory fsynced,
//! before the response is sent; so anything acknowledged survives a kill.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use serde_json::{Value, json};
use tracker_publish::idempotency::content_key;
use tracker_publish::request::SNAPSHOTS_PATH;
use tracker_publish::{ErrorKind, SnapshotReceipt};
use tracker_publish_host::Publisher;

/// How the server runs (the command line of `serve`).
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The data directory.
    pub data: PathBuf,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
    /// Answer 503 to the first N POST requests.
    pub fail_first: u64,
    /// Answer 503 to each further POST with this probability.
    pub fail_rate: f64,
    /// Seed of the `fail_rate` draws.
    pub seed: u64,
    /// Hold each POST this long once its key is claimed.
    pub delay: Duration,
    /// Close the connection without a response for the first N POST requests.
    pub drop_first: u64,
    /// The `Retry-After` seconds sent with a 503.
    pub retry_after: u64,
}

/// Largest request head (request line and headers).
const MAX_HEAD_BYTES: usize = 64 << 10;
/// How long a connection may stay silent before it is closed.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Problem types (RFC 9457): tag URIs, which name a type without promising
/// a page at that address.
const PROBLEM_BASE: &str = "tag:spec-kitty.dev,2026:tracker-publish/problem/";

/// Accepted snapshots live here, one file each, under the data directory.
const SNAPSHOTS_DIR: &str = "snapshots";

/// One accepted snapshot: its idempotency record and where it is filed.
struct Record {
    sequence: u64,
    idempotency_key: String,
    /// SHA-256 of the body, to tell "same body" from "another body".
    body_sha256: String,
    routing_key: Vec<String>,
    /// The first response's status and JSON body, replayed for duplicates.
    status: u16,
    response: Value,
}

#[derive(Default)]
struct State {
    /// Accepted snapshots by `Idempotency-Key`.
    by_key: HashMap<String, Record>,
    /// Keys whose request is being processed now.
    in_flight: HashSet<String>,
    next_sequence: u64,
}

struct Server {
    opts: Options,
    dir: PathBuf,
    publisher: Mutex<Publisher>,
    state: Mutex<State>,
    requests: AtomicU64,
    posts: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop the server from answering.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds, loads the data directory, prints `listening on http://ADDR` as the
/// first line of standard output, and serves until SIGTERM or SIGINT.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let dir = opts.data.join(SNAPSHOTS_DIR);
    let created = !opts.data.exists();
    fs::create_dir_all(&dir).with_context(|| {
        format!(
            "--data {}: cannot create the directory",
            opts.data.display()
        )
    })?;
    // New directories' entries must be durable before anything is
    // acknowledged in them.
    sync_dir(&opts.data).with_context(|| format!("--data {}", opts.data.display()))?;
    let parent = match opts.data.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        p => p,
    };
    if let Some(parent) = parent.filter(|_| created) {
        sync_dir(parent).with_context(|| format!("--data {}", opts.data.display()))?;
    }
    let state = load(&dir)?;
    // Before any thread starts, so that every thread inherits the mask.
    let signals = stop_signals::block();
    let publisher = Publisher::new()?;
    let listener = TcpListener::bind(opts.listen)
        .with_context(|| format!("--listen {}: cannot listen", opts.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!("serve: warning: listening on {addr}, which is not a loopback address");
    }
    eprintln!(
        "serve: {} accepted snapshot(s) loaded from {}",
        state.by_key.len(),
        dir.display()
    );
    let mut out = io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);

    let server = Arc::new(Server {
        opts,
        dir,
        publisher: Mutex::new(publisher),
        state: Mutex::new(state),
        requests: AtomicU64::new(0),
        posts: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(signals) = signals {
        let stop = stop.clone();
        std::thread::spawn(move || stop_signals::watch(signals, &stop, addr));
    }
    let active = Arc::new((Mutex::new(0usize), Condvar::new()));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (server, active) = (server.clone(), active.clone());
        *lock(&active.0) += 1;
        std::thread::spawn(move || {
            server.connection(stream);
            *lock(&active.0) -= 1;
            active.1.notify_all();
        });
    }
    // Stopping: requests in flight are finished and answered first.
    let mut n = lock(&active.0);
    while *n > 0 {
        n = active.1.wait(n).unwrap_or_else(|e| e.into_inner());
    }
    eprintln!("serve: stopped");
    Ok(())
}

/// SIGTERM and SIGINT stop the server gracefully: no new connection is
/// served, those in flight are answered, then `run` returns. A second signal
/// exits at once (nothing acknowledged is lost either way).
#[cfg(unix)]
#[allow(unsafe_code)]
mod stop_signals {
    use std::net::{SocketAddr, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Blocks both signals in this thread (and the threads it starts), so
    /// that only [`watch`] receives them.
    pub fn block() -> Option<libc::sigset_t> {
        // SAFETY: plain libc calls on a sigset_t we own; the set is
        // initialised by sigemptyset before use.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            (libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) == 0).then_some(set)
        }
    }

    fn wait(set: &libc::sigset_t) -> i32 {
        let mut sig = 0;
        // SAFETY: `set` is initialised, `sig` is a valid out pointer.
        unsafe { libc::sigwait(set, &mut sig) };
        sig
    }

    /// Waits for a signal, sets `stop` and wakes the accept loop.
    pub fn watch(set: libc::sigset_t, stop: &AtomicBool, addr: SocketAddr) {
        let sig = wait(&set);
        let name = if sig == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        eprintln!("serve: {name}: stopping once the requests in flight are answered");
        stop.store(true, Ordering::SeqCst);
        let mut wake = addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect(wake);
        wait(&set);
        eprintln!("serve: second signal: exiting now");
        std::process::exit(1);
    }
}

#[cfg(not(unix))]
mod stop_signals {
    use std::net::SocketAddr;
    use std::sync::atomic::AtomicBool;

    pub fn block() -> Option<()> {
        None
    }

    pub fn watch(_: (), _: &AtomicBool, _: SocketAddr) {}
}

// ---- storage ----------------------------------------------------------------

/// fsync of a directory, so a rename or a new entry in it is durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `name` in `dir` so that after a crash it is either whole or absent.
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// The idempotency records of every snapshot accepted before.
fn load(dir: &Path) -> anyhow::Result<State> {
    let mut state = State::default();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') && name.ends_with(".tmp") {
            // A write that never got acknowledged.
            let _ = fs::remove_file(&path);
            continue;
        }
        if !name.ends_with(".json") {
            continue;
        }
        let text = fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let v: Value = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not a stored snapshot (not JSON)", path.display()))?;
        let field = |k: &str| {
            v.get(k)
                .ok_or_else(|| anyhow!("{}: not a stored snapshot (no {k})", path.display()))
        };
        let record = Record {
            sequence: field("sequence")?.as_u64().unwrap_or(0),
            idempotency_key: field("idempotency_key")?.as_str().unwrap_or("").to_owned(),
            body_sha256: field("body_sha256")?.as_str().unwrap_or("").to_owned(),
            routing_key: serde_json::from_value(field("routing_key")?.clone())
                .with_context(|| format!("{}: routing_key", path.display()))?,
            status: u16::try_from(field("status")?.as_u64().unwrap_or(200)).unwrap_or(200),
            response: field("response")?.clone(),
        };
        state.next_sequence = state.next_sequence.max(record.sequence + 1);
        state.by_key.insert(record.idempotency_key.clone(), record);
    }
    state.next_sequence = state.next_sequence.max(1);
    Ok(state)
}

// ---- HTTP ---------------------------------------------------------------------

struct Request {
    method: String,
    path: String,
    /// Names lower-cased, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// Every value of a header.
    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// What the log line says about it.
    note: String,
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, plus `extra` members.
fn problem(status: u16, slug: &str, detail: impl Into<String>, extra: Value) -> Response {
    let detail = detail.into();
    let mut body = json!({
        "type": format!("{PROBLEM_BASE}{slug}"),
        "title": reason(status),
        "status": status,
        "detail": detail,
    });
    if let (Some(obj), Value::Object(more)) = (body.as_object_mut(), extra) {
        obj.extend(more);
    }
    Response {
        status,
        content_type: "application/problem+json",
        headers: Vec::new(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
        note: format!("{slug}: {detail}"),
    }
}

/// A 400 about the HTTP request itself.
fn bad_request(detail: impl Into<String>) -> Response {
    problem(400, "bad-request", detail, json!({}))
}

fn json_response(status: u16, body: &Value, note: String) -> Response {
    Response {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body: serde_json::to_vec(body).unwrap_or_default(),
        note,
    }
}

fn write_response(stream: &mut TcpStream, r: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    for (name, value) in &r.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&r.body)?;
    stream.flush()
}

/// Reads one request; `Err` is the response that refuses it. `line` gets
/// the method and path as soon as they are known, for the log.
fn read_request(stream: &mut TcpStream, line: &mut String) -> Result<Request, Response> {
    let io_error = |e: io::Error| bad_request(format!("reading the request: {e}"));
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(problem(
                431,
                "head-too-large",
                format!("the request head is over {MAX_HEAD_BYTES} bytes"),
                json!({}),
            ));
        }
        let n = stream.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            return Err(bad_request(
                "the connection closed before the request head ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| bad_request("the request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_request("malformed request line"));
    };
    *line = format!("{method} {}", target.split('?').next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(bad_request("only HTTP/1.x is spoken here"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad_request("malformed header line"));
        };
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(bad_request("malformed header name"));
        }
        headers.push((
            name.to_ascii_lowercase(),
            value.trim_matches([' ', '\t']).to_owned(),
        ));
    }
    let mut request = Request {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or("").to_owned(),
        headers,
        body: Vec::new(),
    };
    if request.header("transfer-encoding").is_some() {
        return Err(problem(
            501,
            "chunked-not-supported",
            "Transfer-Encoding is not supported; send the body with Content-Length",
            json!({}),
        ));
    }
    let lengths: Vec<&str> = request.all("content-length").collect();
    let length = match lengths.as_slice() {
        [] => 0,
        [one] => one
            .parse::<usize>()
            .map_err(|_| bad_request("Content-Length is not a number"))?,
        _ => {
            return Err(bad_request("more than one Content-Length"));
        }
    };
    if request.method == "POST" && lengths.is_empty() {
        return Err(problem(
            411,
            "length-required",
            "a POST needs a Content-Length",
            json!({}),
        ));
    }
    let max = tracker_publish::limits::MAX_INPUT_BYTES;
    if length > max {
        return Err(problem(
            413,
            "too-large",
            format!("body: {length} bytes is over the limit of {max} bytes (MAX_INPUT_BYTES)"),
            json!({"kind": "too-large"}),
        ));
    }
    if request
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let mut body = buf.split_off(head_end + 4);
    if body.len() > length {
        // Pipelined requests are not served (one request per connection).
        body.truncate(length);
    }
    let have = body.len();
    body.resize(length, 0);
    stream.read_exact(&mut body[have..]).map_err(io_error)?;
    request.body = body;
    Ok(request)
}

// ---- the service ----------------------------------------------------------------

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

impl Server {
    fn connection(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut line = "(unreadable request)".to_owned();
        let response = match read_request(&mut stream, &mut line) {
            Ok(request) => self.handle(n, &request),
            Err(r) => Some(r),
        };
        match response {
            Some(r) => {
                let sent = write_response(&mut stream, &r);
                let failed = sent
                    .err()
                    .map(|e| format!(" (sending failed: {e})"))
                    .unwrap_or_default();
                eprintln!("serve: #{n} {line} -> {} {}{failed}", r.status, r.note);
            }
            None => {
                eprintln!(
                    "serve: #{n} {line} -> connection dropped without a response (--drop-connection-first)"
                );
            }
        }
        let _ = stream.shutdown(Shutdown::Both);
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
            if k < self.opts.drop_first {
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
                let mut r = problem(
                    503,
                    "unavailable",
                    format!("injected failure ({why})"),
                    json!({}),
                );
                r.headers
                    .push(("Retry-After", self.opts.retry_after.to_string()));
                return Some(r);
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
            return Some(self.list());
        }
        Some(self.publish(n, req))
    }

    fn list(&self) -> Response {
        let state = lock(&self.state);
        let mut records: Vec<&Record> = state.by_key.values().collect();
        records.sort_by_key(|r| r.sequence);
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
        let mut routes: Vec<(Vec<String>, Vec<u64>)> = Vec::new();
        for r in &records {
            match routes.iter_mut().find(|(k, _)| *k == r.routing_key) {
                Some((_, seqs)) => seqs.push(r.sequence),
                None => routes.push((r.routing_key.clone(), vec![r.sequence])),
            }
        }
        let routes: Vec<Value> = routes
            .into_iter()
            .map(|(k, seqs)| json!({"routing_key": k, "latest": seqs.last(), "sequences": seqs}))
            .collect();
        let body = json!({"accepted": records.len(), "snapshots": snapshots, "routes": routes});
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
        {
            let mut state = lock(&self.state);
            if let Some(first) = state.by_key.get(&key) {
                if first.body_sha256 == body_sha256 {
                    let mut replay = first.response.clone();
                    replay["duplicate"] = json!(true);
                    let mut r = json_response(
                        first.status,
                        &replay,
                        format!("duplicate of #{} key={}", first.sequence, short(&key)),
                    );
                    r.headers.push(("Idempotent-Replayed", "true".to_owned()));
                    return r;
                }
                return problem(
                    422,
                    "idempotency-key-reused",
                    format!(
                        "Idempotency-Key: already used for another body (snapshot {}); an edited snapshot needs a new key (use the content scheme)",
                        first.sequence
                    ),
                    json!({"idempotency_key": key, "sequence": first.sequence}),
                );
            }
            if !state.in_flight.insert(key.clone()) {
                return problem(
                    409,
                    "idempotency-key-in-use",
                    "Idempotency-Key: a request with this key is still being processed; retry later",
                    json!({"idempotency_key": key}),
                );
            }
        }
        let response = self.accept(n, &key, &body_sha256, &req.body);
        lock(&self.state).in_flight.remove(&key);
        response
    }

    /// Verifies and stores a snapshot whose key this request holds.
    fn accept(&self, n: u64, key: &str, body_sha256: &str, body: &[u8]) -> Response {
        if !self.opts.delay.is_zero() {
            eprintln!(
                "serve: #{n} holding key={} for {} ms (--delay-ms)",
                short(key),
                self.opts.delay.as_millis()
            );
            std::thread::sleep(self.opts.delay);
        }
        let verdict = lock(&self.publisher).verify(body, key);
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
        let mut state = lock(&self.state);
        let sequence = state.next_sequence;
        let response = json!({
            "accepted": true,
            "duplicate": false,
            "sequence": sequence,
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
        let record = json!({
            "sequence": sequence,
            "idempotency_key": key,
            "body_sha256": body_sha256,
            "routing_key": receipt.routing_key,
            "status": 200,
            "response": response,
            // Verified UTF-8 JSON: kept as the exact text.
            "body": String::from_utf8_lossy(body),
        });
        let name = format!("{sequence:012}.json");
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        if let Err(e) = write_durably(&self.dir, &name, &bytes) {
            return problem(
                500,
                "storage",
                format!("storing the snapshot failed: {e}"),
                json!({}),
            );
        }
        state.next_sequence += 1;
        let note = format!(
            "accepted #{sequence} key={} scheme={} route=({}) issues={} mappings={}",
            short(key),
            receipt.scheme.as_str(),
            receipt.routing_key.join(", "),
            receipt.issues,
            receipt.mappings
        );
        state.by_key.insert(
            key.to_owned(),
            Record {
                sequence,
                idempotency_key: key.to_owned(),
                body_sha256: body_sha256.to_owned(),
                routing_key: receipt.routing_key,
                status: 200,
                response: response.clone(),
            },
        );
        json_response(200, &response, note)
    }
}
