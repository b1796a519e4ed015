//! HTTP/1.1 on `std::net` for `serve`: persistent connections (keep-alive,
//! pipelining read in order), `Content-Length` bodies only (chunked is
//! refused with 501), bounded heads and bodies, read and write timeouts.
//! Every refusal is an RFC 9457 problem.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 100;
/// How long a request may take to arrive once it started.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle persistent connection is kept.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How often an idle connection looks whether the server is stopping.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Problem types (RFC 9457): tag URIs, which name a type without promising
/// a page at that address.
const PROBLEM_BASE: &str = "tag:spec-kitty.dev,2026:tracker-publish/problem/";

/// One parsed request.
pub struct Request {
    /// The method, as sent.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?`.
    pub query: String,
    /// Names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the client lets the connection stay open.
    pub keep_alive: bool,
}

impl Request {
    /// Every value of a header.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    /// A query parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// A response, and what the log line says about it.
pub struct Response {
    /// Its status.
    pub status: u16,
    /// Its media type.
    pub content_type: &'static str,
    /// More headers.
    pub headers: Vec<(&'static str, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// For the log line.
    pub note: String,
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
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
pub fn problem(status: u16, slug: &str, detail: impl Into<String>, extra: Value) -> Response {
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
pub fn bad_request(detail: impl Into<String>) -> Response {
    problem(400, "bad-request", detail, json!({}))
}

/// A 503 with `Retry-After`.
pub fn unavailable(slug: &str, detail: impl Into<String>, retry_after: u64) -> Response {
    let mut r = problem(503, slug, detail, json!({}));
    r.headers.push(("Retry-After", retry_after.to_string()));
    r
}

/// A JSON response.
pub fn json_response(status: u16, body: &Value, note: String) -> Response {
    Response {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body: serde_json::to_vec(body).unwrap_or_default(),
        note,
    }
}

/// A connection and the bytes read from it but not used yet.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What waiting for the next request gave.
pub enum Next {
    /// A request.
    Request(Request),
    /// A request refused before it was read whole; the connection closes
    /// after this answer.
    Refused(Response),
    /// Nothing: the peer closed, stayed idle, or the server is stopping.
    Closed,
}

impl Conn {
    /// Wraps an accepted connection.
    pub fn new(stream: TcpStream) -> Conn {
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_nodelay(true);
        Conn {
            stream,
            buf: Vec::with_capacity(8192),
        }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Waits for the first bytes of a request, up to [`KEEP_ALIVE`] on a
    /// reused connection, and ends the wait early when `stop` is set.
    fn wait_for_bytes(&mut self, first: bool, stop: &AtomicBool) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        let since = Instant::now();
        let patience = if first { IO_TIMEOUT } else { KEEP_ALIVE };
        let _ = self.stream.set_read_timeout(Some(IDLE_POLL));
        loop {
            match self.fill() {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    // Stopping: an idle connection closes now, a new one
                    // still gets a moment for its first request.
                    let stopping = stop.load(Ordering::Relaxed)
                        && (!first || since.elapsed() > Duration::from_secs(1));
                    if stopping || since.elapsed() > patience {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Reads the next request. `line` gets the method and path as soon as
    /// they are known, for the log.
    pub fn next(&mut self, first: bool, stop: &AtomicBool, line: &mut String) -> Next {
        if !self.wait_for_bytes(first, stop) {
            return Next::Closed;
        }
        let _ = self.stream.set_read_timeout(Some(IO_TIMEOUT));
        match self.read_request(line) {
            Ok(r) => Next::Request(r),
            Err(r) => Next::Refused(r),
        }
    }

    fn read_request(&mut self, line: &mut String) -> Result<Request, Response> {
        let io_error = |e: io::Error| bad_request(format!("reading the request: {e}"));
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(problem(
                    431,
                    "head-too-large",
                    format!("the request head is over {MAX_HEAD_BYTES} bytes"),
                    json!({}),
                ));
            }
            if self.fill().map_err(io_error)? == 0 {
                return Err(bad_request(
                    "the connection closed before the request head ended",
                ));
            }
        };
        if head_end > MAX_HEAD_BYTES {
            return Err(problem(
                431,
                "head-too-large",
                format!("the request head is over {MAX_HEAD_BYTES} bytes"),
                json!({}),
            ));
        }
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad_request("the request head is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or("");
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_request("malformed request line"));
        };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        *line = format!("{method} {path}");
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
        if headers.len() > MAX_HEADERS {
            return Err(problem(
                431,
                "head-too-large",
                format!("more than {MAX_HEADERS} header fields"),
                json!({}),
            ));
        }
        let close = headers.iter().any(|(n, v)| {
            n == "connection" && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
        });
        let mut request = Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: Vec::new(),
            keep_alive: version == "HTTP/1.1" && !close,
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
        self.buf.drain(..head_end + 4);
        if request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
            && self.buf.len() < length
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let have = self.buf.len().min(length);
        let mut body: Vec<u8> = self.buf.drain(..have).collect();
        body.resize(length, 0);
        self.stream
            .read_exact(&mut body[have..])
            .map_err(io_error)?;
        request.body = body;
        Ok(request)
    }

    /// Sends a response; `keep` says whether the connection stays open.
    pub fn send(&mut self, r: &Response, keep: bool) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            r.status,
            reason(r.status),
            r.content_type,
            r.body.len(),
            if keep { "keep-alive" } else { "close" }
        );
        for (name, value) in &r.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&r.body);
        self.stream.write_all(&out)?;
        self.stream.flush()
    }

    /// Closes both directions.
    pub fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}
