//! The network side of `serve`: HTTP/1.1 from hyper on tokio (persistent
//! connections, pipelining, `Expect: 100-continue`, head limits, header
//! read timeout, graceful shutdown of connections). The requests themselves
//! are answered by [`Server::bounded`] on tokio's blocking threads, since
//! verification and the storage block.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Semaphore;

use super::Server;
use super::http::{
    MAX_HEAD_BYTES, MAX_HEADERS, Request, Response, bad_request, problem, unavailable,
};
use super::short;
use super::timeout::WriteTimeout;

/// Serves on `listener` until `stop` is set (and the listener woken), then
/// waits for the requests in flight.
pub fn serve(
    server: Arc<Server>,
    listener: std::net::TcpListener,
    stop: Arc<AtomicBool>,
    cores: usize,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 4))
        // A blocking thread per request in flight, at most.
        .max_blocking_threads(server.opts.max_in_flight as usize + 8)
        .thread_name("serve-http")
        .enable_all()
        .build()?;
    runtime.block_on(accept(server, listener, stop))
}

async fn accept(
    server: Arc<Server>,
    listener: std::net::TcpListener,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(server.opts.max_connections as usize));
    let write_timeout = Duration::from_secs(server.opts.write_timeout_seconds);
    let read_timeout = Duration::from_secs(server.opts.read_timeout_seconds);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors, say: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(stream, &server);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let s = server.clone();
        let conn = builder.serve_connection(
            TokioIo::new(WriteTimeout::new(stream, write_timeout)),
            service_fn(move |req| s.clone().answer(req)),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // The connection is closed once awaited; its slot is free
            // before the log says why it closed.
            let closed = conn.await;
            drop(slot);
            if let Err(e) = closed {
                log_timed_out(&e);
            }
        });
    }
    drop(listener);
    // Each connection finishes the request it is on, then closes.
    graceful.shutdown().await;
    Ok(())
}

/// Past `--max-connections`: 503 from here, without hyper, and closed.
fn refuse(mut stream: tokio::net::TcpStream, server: &Server) {
    let r = unavailable(
        "overloaded",
        format!(
            "more than {} open connections (--max-connections); retry later",
            server.opts.max_connections
        ),
        server.opts.retry_after.max(1),
    );
    eprintln!("serve: connection refused -> 503 {}", r.note);
    let bytes = r.to_bytes(false);
    let limit = Duration::from_secs(server.opts.write_timeout_seconds);
    tokio::spawn(async move {
        // A client that does not read this either is given up on.
        let _ = tokio::time::timeout(limit, async {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        })
        .await;
    });
}

/// A connection closed by the write timeout says so in the log (other
/// connection errors, such as a client going away, are ordinary).
fn log_timed_out(e: &hyper::Error) {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                eprintln!("serve: connection closed: {io}");
            }
            return;
        }
        cause = c.source();
    }
}

/// A request answered with no response: hyper closes the connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped without a response")
    }
}

impl std::error::Error for Dropped {}

/// Refusals from the head alone, before any body is read; the connection
/// closes after them.
fn refuse_head(req: &Request) -> Result<usize, Response> {
    if req.header("transfer-encoding").is_some() {
        return Err(problem(
            501,
            "chunked-not-supported",
            "Transfer-Encoding is not supported; send the body with Content-Length",
            json!({}),
        ));
    }
    let lengths: Vec<&str> = req.all("content-length").collect();
    let length = match lengths.as_slice() {
        [] => 0,
        [one] => one
            .parse::<usize>()
            .map_err(|_| bad_request("Content-Length is not a number"))?,
        _ => return Err(bad_request("more than one Content-Length")),
    };
    if req.method == "POST" && lengths.is_empty() {
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
    Ok(length)
}

impl Server {
    /// One request through hyper: the same answers as before, the same log
    /// line.
    async fn answer(
        self: Arc<Self>,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes())
                        .trim_matches([' ', '\t'])
                        .to_owned(),
                )
            })
            .collect();
        let close = headers.iter().any(|(n, v)| {
            n == "connection" && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
        });
        let mut request = Request {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers,
            body: Vec::new(),
            keep_alive: parts.version == hyper::Version::HTTP_11 && !close,
        };
        let mut line = format!("{} {}", request.method, request.path);
        let (response, keep) = match refuse_head(&request) {
            Err(r) => (Some(r), false),
            Ok(length) => {
                let limit = Duration::from_secs(self.opts.read_timeout_seconds);
                let read = tokio::time::timeout(limit, Limited::new(body, length).collect());
                match read.await {
                    Err(_) => (
                        Some(bad_request(format!(
                            "reading the request: the body did not arrive within {} s (--read-timeout-seconds)",
                            limit.as_secs()
                        ))),
                        false,
                    ),
                    Ok(Err(e)) => (
                        Some(bad_request(format!("reading the request: {e}"))),
                        false,
                    ),
                    Ok(Ok(collected)) => {
                        request.body = collected.to_bytes().to_vec();
                        let keep = request.keep_alive && !self.stop.load(Ordering::Relaxed);
                        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
                        // Past this point `line` is logged with the number,
                        // and the key in short form (never a token).
                        line = match request.header("idempotency-key") {
                            Some(k) => format!("#{n} {line} key={}", short(k)),
                            None => format!("#{n} {line}"),
                        };
                        let s = self.clone();
                        let r = tokio::task::spawn_blocking(move || s.bounded(n, &request))
                            .await
                            .unwrap_or_else(|e| {
                                Some(problem(
                                    500,
                                    "internal",
                                    format!("the request failed: {e}"),
                                    json!({}),
                                ))
                            });
                        (r, keep)
                    }
                }
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let Some(r) = response else {
            eprintln!(
                "serve: {line} -> connection dropped without a response (--drop-connection-first)"
            );
            return Err(Dropped);
        };
        let keep = keep && !self.stop.load(Ordering::Relaxed);
        eprintln!("serve: {line} -> {} {} in {ms:.1} ms", r.status, r.note);
        Ok(to_hyper(r, keep))
    }
}

fn to_hyper(r: Response, keep: bool) -> hyper::Response<Full<Bytes>> {
    let mut out = hyper::Response::new(Full::new(Bytes::from(r.body)));
    *out.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = out.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    // Said either way, as before: hyper closes after `close`.
    h.insert(
        CONNECTION,
        HeaderValue::from_static(if keep { "keep-alive" } else { "close" }),
    );
    for (name, value) in r.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    }
    out
}
