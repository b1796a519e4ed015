//! Requests and responses of `serve` as its handlers see them, and RFC 9457
//! problems; the wire is hyper's ([`super::net`]).

use serde_json::{Value, json};

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 100;
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

impl Response {
    /// The response as bytes on the wire (for the refusal sent without
    /// hyper, past `--max-connections`).
    pub fn to_bytes(&self, keep: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if keep { "keep-alive" } else { "close" }
        );
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}
