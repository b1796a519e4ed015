//! What the `serve` tests share: a running server, its answers read off
//! the wire, and requests computed by the core.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracker_publish::{
    IdempotencyScheme, PublishOptions, PublishRequest, build_snapshot_payload_json,
};

use super::common::BIN;
use super::vectors;

/// Where snapshots are posted and listed.
pub const PATH: &str = "/api/v1/connectors/trackers/snapshots/";
/// Only a bound against a hung test, never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A running `tracker-publish serve`, killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
    lines: Mutex<Receiver<String>>,
}

impl Server {
    pub fn start(data: &Path, args: &[&str]) -> Server {
        Server::spawn(&["--data".as_ref(), data.as_os_str()], args)
    }

    /// A server on storage given by `store` (`--data DIR` or `--database URL`).
    pub fn spawn(store: &[&std::ffi::OsStr], args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(store)
            .args(args)
            .env_remove("TRACKER_PUBLISH_SERVE_DATABASE")
            .env_remove("TRACKER_PUBLISH_SERVE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tracker-publish serve");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line {first:?}"))
            .to_owned();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        Server {
            child,
            addr,
            log,
            lines: Mutex::new(lines),
        }
    }

    /// Waits for a log line containing `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        let lines = self.lines.lock().unwrap();
        loop {
            let line = lines
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Sends signal `name` (`TERM`, `KILL`) to the server.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    }

    /// Posts `requests` at once, sends SIGTERM once the server holds them
    /// all (`--delay-ms`), and returns their answers, each a 200.
    pub fn post_through_sigterm(&self, requests: &[PublishRequest]) -> Vec<Reply> {
        std::thread::scope(|scope| {
            let held: Vec<_> = requests
                .iter()
                .map(|r| scope.spawn(|| self.post(r)))
                .collect();
            for _ in requests {
                self.wait_for("holding key=");
            }
            self.signal("TERM");
            self.wait_for("SIGTERM: stopping");
            held.into_iter()
                .map(|h| {
                    let reply = h.join().unwrap();
                    assert_eq!(reply.status, 200, "{}", reply.text());
                    reply
                })
                .collect()
        })
    }

    /// Every snapshot listed, through all pages: (sequence, key).
    pub fn listed(&self) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let mut query = "?limit=1000".to_owned();
        loop {
            let page = raw(
                self,
                format!("GET {PATH}{query} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
            );
            assert_eq!(page.status, 200, "{}", page.text());
            let page = page.json();
            for s in page["snapshots"].as_array().unwrap() {
                out.push((
                    s["sequence"].as_u64().unwrap(),
                    s["idempotency_key"].as_str().unwrap().to_owned(),
                ));
            }
            match page["next"].as_str() {
                Some(n) => query = n.trim_start_matches(PATH).to_owned(),
                None => return out,
            }
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn post(&self, r: &PublishRequest) -> Reply {
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        self.send("POST", &headers, &r.body).expect("a response")
    }

    pub fn list(&self, token: Option<&str>) -> Value {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let r = self.send("GET", &headers, b"").expect("a response");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// One request on a fresh connection; `Err` when the connection closed
    /// without a response.
    pub fn send(
        &self,
        method: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut head = format!(
            "{method} {PATH} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        if let Err(e) = s.read_to_end(&mut raw) {
            return Err(format!("read failed: {e}"));
        }
        if raw.is_empty() {
            return Err("connection closed without a response".into());
        }
        Ok(Reply::parse(&raw))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as read off the wire.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn parse(raw: &[u8]) -> Reply {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head");
        let head = std::str::from_utf8(&raw[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        Reply {
            status,
            headers,
            body: raw[end + 4..].to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// An RFC 9457 problem with this status; returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let p = self.json();
        for member in ["type", "title", "detail"] {
            assert!(p[member].is_string(), "problem without {member}: {p}");
        }
        assert_eq!(p["status"], status);
        p
    }
}

/// The request the core computes for a vector's input.
pub fn request(case: &str, scheme: IdempotencyScheme) -> PublishRequest {
    let c = vectors::cases()
        .into_iter()
        .find(|c| c.name == case)
        .expect("vector");
    build_snapshot_payload_json(
        &c.input_json,
        &PublishOptions {
            idempotency: scheme,
        },
    )
    .unwrap()
}

/// The vector with issues, mappings and a checkpoint, and a token in it.
pub fn sample() -> PublishRequest {
    request("issues, mappings and checkpoint", IdempotencyScheme::V1)
}

/// The same snapshot with one title edited: same counts and cursor, so the
/// same v1 key, but another body.
pub fn edited(r: &PublishRequest) -> PublishRequest {
    let mut e = r.clone();
    let body = String::from_utf8(r.body.clone()).unwrap();
    e.body = body.replacen("Fix login", "Fix logout", 1).into_bytes();
    assert_ne!(e.body, r.body);
    e
}

/// `r` without its header `name`.
pub fn without_header(r: &PublishRequest, name: &str) -> PublishRequest {
    let mut r = r.clone();
    r.headers.retain(|(n, _)| n != name);
    r
}

/// Sends raw bytes on a fresh connection and reads one answer.
pub fn raw(server: &Server, bytes: &[u8]) -> Reply {
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(bytes).unwrap();
    read_reply(&mut s).expect("a response")
}

/// Reads one response (its head, then Content-Length bytes), leaving the
/// connection open; `None` when it closed first.
pub fn read_reply(s: &mut TcpStream) -> Option<Reply> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            _ => return None,
        }
    }
    let head = Reply::parse(&raw);
    let length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).ok()?;
    raw.extend_from_slice(&body);
    Some(Reply::parse(&raw))
}

/// `n` distinct valid snapshots (content keys), differing in the project slug.
pub fn many(n: usize) -> Vec<PublishRequest> {
    let c = vectors::cases()
        .into_iter()
        .find(|c| c.name == "jira happy path")
        .expect("vector");
    let mut input: Value = serde_json::from_str(&c.input_json).unwrap();
    (0..n)
        .map(|i| {
            input["project_slug"] = format!("load-{i}").into();
            build_snapshot_payload_json(
                &input.to_string(),
                &PublishOptions {
                    idempotency: IdempotencyScheme::Content,
                },
            )
            .unwrap()
        })
        .collect()
}

/// `r` as a POST on the wire: its head and its body.
pub fn post_bytes(r: &PublishRequest) -> Vec<u8> {
    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        r.body.len()
    );
    for (n, v) in &r.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&r.body);
    bytes
}

/// One POST on a fresh connection; `None` on any I/O error (a killed server).
pub fn try_post(addr: &str, r: &PublishRequest) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(PATIENCE)).ok()?;
    s.write_all(&post_bytes(r)).ok()?;
    read_reply(&mut s)
}

/// Reads `s` to its end, which the server must have closed (end of stream
/// or a reset, not the read timeout); what was read.
pub fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut sink = Vec::new();
    if let Err(e) = s.read_to_end(&mut sink) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset,
            "the connection was not closed: {e}"
        );
    }
    sink
}
