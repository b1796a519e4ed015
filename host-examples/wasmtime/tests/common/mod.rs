//! Shared by the host's publish tests: spec-kitty projects made on disk with
//! the CLI's layout, and a loopback HTTP server that records what it gets.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

pub const BIN: &str = env!("CARGO_BIN_EXE_tracker-publish");

/// The CLI's schema.
pub const SCHEMA: &str = tracker_publish_host::project::sample::SCHEMA;

/// A fresh directory under the system's temporary directory, removed when
/// dropped. (Not the `tempfile` crate: as a dev-dependency it changes the
/// features of a crate wasmtime shares, and the tests would rebuild wasmtime.)
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tracker-publish-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A project and a home directory in a fresh temporary directory.
pub struct Fixture {
    pub dir: TempDir,
    pub config: String,
    pub credentials: Option<String>,
    /// (identity, system, payload)
    pub issues: Vec<(String, String, String)>,
    /// wp_id, system, workspace, external_id, key, url, created, updated
    pub mappings: Vec<[Option<String>; 8]>,
    /// (key, cursor, updated_since)
    pub checkpoint: Option<(String, Option<String>, Option<String>)>,
    /// false: no store file at all.
    pub store: bool,
}

impl Fixture {
    pub fn new(config: &str, credentials: Option<&str>) -> Fixture {
        Fixture {
            dir: TempDir::new(),
            config: config.to_owned(),
            credentials: credentials.map(str::to_owned),
            issues: Vec::new(),
            mappings: Vec::new(),
            checkpoint: None,
            store: true,
        }
    }

    pub fn issue(mut self, system: &str, id: &str, payload: &str) -> Self {
        self.issues.push((
            format!("{system}:w:{id}"),
            system.to_owned(),
            payload.to_owned(),
        ));
        self
    }

    pub fn mapping(mut self, wp: &str, id: &str, key: Option<&str>) -> Self {
        let s = |v: &str| Some(v.to_owned());
        self.mappings.push([
            s(wp),
            s("jira"),
            s("acme.atlassian.net"),
            s(id),
            key.map(str::to_owned),
            None,
            s("2026-03-01T12:00:00+00:00"),
            s("2026-03-02T12:00:00+00:00"),
        ]);
        self
    }

    pub fn checkpoint(mut self, key: &str, cursor: Option<&str>, since: Option<&str>) -> Self {
        self.checkpoint = Some((
            key.to_owned(),
            cursor.map(str::to_owned),
            since.map(str::to_owned),
        ));
        self
    }

    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Writes the config and the credentials.
    pub fn write_files(&self) {
        std::fs::create_dir_all(self.project().join(".kittify")).unwrap();
        std::fs::write(self.project().join(".kittify/config.yaml"), &self.config).unwrap();
        std::fs::create_dir_all(self.home().join(".spec-kitty/trackers")).unwrap();
        if let Some(c) = &self.credentials {
            std::fs::write(self.home().join(".spec-kitty/credentials"), c).unwrap();
        }
    }

    /// Writes the files; the store goes where `store_path` says.
    pub fn write(&self, store_path: &Path) {
        self.write_files();
        if !self.store {
            return;
        }
        let conn = rusqlite::Connection::open(store_path).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        for (identity, system, payload) in &self.issues {
            conn.execute(
                "INSERT INTO tracker_issues VALUES (?1, ?2, 'w', 'id', ?3, NULL)",
                (identity, system, payload),
            )
            .unwrap();
        }
        for m in &self.mappings {
            conn.execute(
                "INSERT INTO tracker_mappings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params_from_iter(m.iter()),
            )
            .unwrap();
        }
        if let Some((k, c, s)) = &self.checkpoint {
            conn.execute(
                "INSERT INTO tracker_checkpoints VALUES (?1, ?2, ?3)",
                (k, c, s),
            )
            .unwrap();
        }
    }

    /// Runs `tracker-publish` with this home and the project as the current directory.
    pub fn ours(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.project())
            .env("HOME", self.home())
            .env_remove("SAAS_API_URL")
            .env_remove("SAAS_AUTH_TOKEN")
            .env_remove("SPECIFY_REPO_ROOT")
            .output()
            .unwrap()
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One answer of the capture server.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering.
    pub delay_ms: u64,
    /// Close the connection without answering.
    pub drop: bool,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
            ..Default::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, ms: u64) -> Answer {
        self.delay_ms = ms;
        self
    }

    pub fn dropped() -> Answer {
        Answer {
            drop: true,
            ..Default::default()
        }
    }
}

/// The answers, one per request in turn; the last one repeats.
pub type Script = Vec<Answer>;

/// A loopback HTTP/1.1 server that records every request.
pub struct Capture {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Capture {
    pub fn start(script: Script) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let store = got.clone();
        std::thread::spawn(move || {
            let mut n = 0usize;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let answer = script[n.min(script.len() - 1)].clone();
                n += 1;
                let store = store.clone();
                // A thread per connection, so a slow answer does not hold the next.
                std::thread::spawn(move || {
                    let _ = serve_one(stream, &answer, &store);
                });
            }
        });
        Capture { url, got }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, answer: &Answer, store: &Arc<Mutex<Vec<Received>>>) -> Option<()> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    store.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    if answer.drop {
        return Some(());
    }
    std::thread::sleep(std::time::Duration::from_millis(answer.delay_ms));
    let (status, extra, text) = (answer.status, &answer.headers, &answer.body);
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        text.len()
    );
    for (n, v) in extra {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(text);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    Some(())
}

/// The store path our component derives for a fixture (from `--dry-run`
/// failing on a missing store, whose message names it).
pub fn derived_store_path(f: &Fixture) -> PathBuf {
    f.write_files();
    let out = f.ours(&["publish", "--dry-run", "--server-url", "http://127.0.0.1:9"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(v["error"]["kind"], "store-missing", "{v}");
    let path = msg
        .strip_prefix("no tracker store at ")
        .and_then(|m| m.split(" (scope").next())
        .unwrap();
    PathBuf::from(path)
}

// The CLI's Python and the reference scripts: the one runner every
// crate's tests share.
#[path = "../../../../tests/support/python.rs"]
mod python;
#[allow(unused_imports)] // each test binary uses some of them
pub use python::{cli_python, reference_cases};
