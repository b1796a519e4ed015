//! `tracker-publish serve` as a publisher meets it: the real command, real
//! HTTP over 127.0.0.1, request bodies and keys computed by the core.

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tracker_publish::{IdempotencyScheme, PublishRequest};

use common::BIN;

/// `serve --database` on a PostgreSQL the tests start.
#[path = "serve/postgresql.rs"]
mod postgresql;
/// The server, its answers and the requests, shared by these modules.
#[path = "serve/support.rs"]
mod support;
/// `--write-timeout-seconds` against a client that stops reading.
#[path = "serve/timeouts.rs"]
mod timeouts;

use support::{
    PATH, PATIENCE, Server, edited, many, post_bytes, raw, read_reply, request, sample, try_post,
    without_header,
};

#[test]
fn accepts_a_snapshot_and_lists_it_under_its_routing_key() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let jira = sample();
    let reply = server.post(&jira);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let receipt = reply.json();
    assert_eq!(receipt["accepted"], true);
    assert_eq!(receipt["duplicate"], false);
    assert_eq!(receipt["scheme"], "v1");
    assert_eq!(receipt["idempotency_key"], jira.idempotency_key.as_str());
    assert_eq!(
        receipt["routing_key"],
        serde_json::json!(["jira", "acme.atlassian.net", "jira_project", "ACME"])
    );
    assert_eq!(
        (receipt["issues"].as_u64(), receipt["mappings"].as_u64()),
        (Some(2), Some(1))
    );

    // No routing: filed under (provider, workspace); the content scheme is recognised.
    let beads = request("unsupported provider beads", IdempotencyScheme::Content);
    let reply = server.post(&beads);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let receipt = reply.json();
    assert_eq!(receipt["scheme"], "content");
    assert_eq!(receipt["external_resource_type"], Value::Null);
    assert_eq!(receipt["routing_key"].as_array().map(Vec::len), Some(2));

    let list = server.list(None);
    assert_eq!(list["accepted"], 2);
    let keys: Vec<&str> = list["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["idempotency_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            jira.idempotency_key.as_str(),
            beads.idempotency_key.as_str()
        ]
    );
    assert_eq!(list["routes"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["routes"][0]["routing_key"][3], "ACME");
}

#[test]
fn same_key_and_body_replays_the_first_response_as_a_duplicate() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let r = sample();
    let first = server.post(&r);
    assert_eq!(first.status, 200, "{}", first.text());
    let second = server.post(&r);
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let (mut a, b) = (first.json(), second.json());
    assert_eq!(b["duplicate"], true);
    a["duplicate"] = Value::Bool(true);
    assert_eq!(a, b, "the replay is the first response, marked");
    assert_eq!(server.list(None)["accepted"], 1);
}

#[test]
fn same_key_with_another_body_is_422() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let r = sample();
    assert_eq!(server.post(&r).status, 200);
    let other = edited(&r);
    let p = server.post(&other).problem(422);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key:"),
        "{p}"
    );
    assert_eq!(
        server.list(None)["accepted"],
        1,
        "the edited body was not stored"
    );
}

#[test]
fn a_key_still_being_processed_is_409() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--delay-ms", "3000"]);
    let r = sample();
    std::thread::scope(|scope| {
        let held = scope.spawn(|| server.post(&r));
        // The first request has claimed the key once the server says it holds it.
        server.wait_for("holding key=");
        let p = server.post(&r).problem(409);
        assert_eq!(p["idempotency_key"], r.idempotency_key.as_str());
        let first = held.join().unwrap();
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(first.json()["duplicate"], false);
    });
}

#[test]
fn a_request_without_a_key_is_400() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let r = without_header(&sample(), "Idempotency-Key");
    let p = server.post(&r).problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key:"),
        "{p}"
    );
    assert_eq!(server.list(None)["accepted"], 0);
}

#[test]
fn a_missing_or_wrong_token_is_401_and_never_logged() {
    let data = common::TempDir::new();
    let token = "serve-secret-7f3a";
    let server = Server::start(data.path(), &["--token", token]);
    let r = sample(); // carries "Bearer test-token"
    let reply = server.post(&r);
    reply.problem(401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    server
        .post(&without_header(&r, "Authorization"))
        .problem(401);
    let unauthorised_list = server.send("GET", &[], b"").unwrap();
    unauthorised_list.problem(401);

    let mut right = without_header(&r, "Authorization");
    right
        .headers
        .push(("Authorization".into(), format!("Bearer {token}")));
    let reply = server.post(&right);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(server.list(Some(token))["accepted"], 1);
    server.wait_for("snapshot(s) listed");
    for line in server.log() {
        assert!(
            !line.contains(token) && !line.contains("test-token"),
            "token in log: {line}"
        );
    }
}

#[test]
fn fail_first_answers_503_with_retry_after_then_accepts_the_same_request() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--fail-first", "2", "--retry-after", "0"]);
    let r = sample();
    for _ in 0..2 {
        let reply = server.post(&r);
        reply.problem(503);
        assert_eq!(reply.header("retry-after"), Some("0"));
    }
    let reply = server.post(&r);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["duplicate"], false, "the 503s stored nothing");
}

#[test]
fn fail_rate_is_deterministic_for_a_seed() {
    let pattern = |_: &str| {
        let data = common::TempDir::new();
        let server = Server::start(data.path(), &["--fail-rate", "0.5", "--seed", "7"]);
        let r = sample();
        (0..12)
            .map(|_| server.post(&r).status)
            .collect::<Vec<u16>>()
    };
    let a = pattern("rate-a");
    assert_eq!(a, pattern("rate-b"));
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
}

#[test]
fn dropped_connections_get_no_response_and_store_nothing() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--drop-connection-first", "1"]);
    let r = sample();
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert!(
        server.send("POST", &headers, &r.body).is_err(),
        "first request answered"
    );
    assert_eq!(server.list(None)["accepted"], 0);
    let reply = server.post(&r);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["duplicate"], false);
}

#[test]
fn invalid_bodies_and_keys_are_problems_naming_the_field() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let content = |body: Vec<u8>| {
        let mut r = sample();
        r.idempotency_key = tracker_publish::idempotency::content_key(&body);
        for h in &mut r.headers {
            if h.0 == "Idempotency-Key" {
                h.1 = r.idempotency_key.clone();
            }
        }
        r.body = body;
        r
    };
    let body = String::from_utf8(sample().body).unwrap();
    let cases = [
        (
            body.replacen(r#""id":"10002""#, r#""id":10002"#, 1),
            400,
            "issues[1].ref.id: expected a string",
        ),
        (
            body.replacen(r#""provider":"jira""#, r#""provider":"Jira""#, 1),
            400,
            "provider: not normalised",
        ),
        (
            body.replacen(
                r#""external_resource_id":"ACME""#,
                "\"external_resource_id\":null",
                1,
            ),
            400,
            "external_resource_id: null while",
        ),
        ("{}".to_owned(), 400, "provider: missing field"),
    ];
    for (bad, status, detail) in cases {
        let p = server.post(&content(bad.into_bytes())).problem(status);
        assert_eq!(p["kind"], "invalid-input", "{p}");
        assert!(
            p["detail"].as_str().unwrap().starts_with(detail),
            "{p} should start with {detail}"
        );
    }
    // A valid body under a key of neither scheme.
    let mut wrong_key = sample();
    for h in &mut wrong_key.headers {
        if h.0 == "Idempotency-Key" {
            h.1 = "f".repeat(64);
        }
    }
    let p = server.post(&wrong_key).problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key: matches neither"),
        "{p}"
    );
    // Not JSON by its Content-Type.
    let mut text = sample();
    text.headers[0].1 = "text/plain".into();
    server.post(&text).problem(415);
    assert_eq!(server.list(None)["accepted"], 0);
    // Refusals hold no key: the same key with a valid body is accepted afterwards.
    assert_eq!(server.post(&sample()).status, 200);
}

#[test]
fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    let data = common::TempDir::new();
    let r = sample();
    let content = request("linear happy path", IdempotencyScheme::Content);
    let first = {
        let server = Server::start(data.path(), &[]);
        let first = server.post(&r);
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(server.post(&content).status, 200);
        first.json()
        // Dropped here: SIGKILL, no shutdown code runs.
    };
    let server = Server::start(data.path(), &[]);
    server.wait_for("2 accepted snapshot(s) in");
    let list = server.list(None);
    assert_eq!(list["accepted"], 2, "{list}");
    let replay = server.post(&r);
    assert_eq!(replay.status, 200, "{}", replay.text());
    let mut expected = first;
    expected["duplicate"] = Value::Bool(true);
    assert_eq!(
        replay.json(),
        expected,
        "the replay after a restart is the first response"
    );
    server.post(&edited(&r)).problem(422);
    // New snapshots continue the sequence.
    let next = server.post(&request("jira happy path", IdempotencyScheme::Content));
    assert_eq!(next.json()["sequence"], 3);
}

#[test]
fn http_edges_are_problems_too() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    raw(&server, b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n").problem(404);
    let r = raw(
        &server,
        format!("DELETE {PATH} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let chunked = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nIdempotency-Key: k\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
    );
    raw(&server, chunked.as_bytes()).problem(501);
    raw(
        &server,
        format!("POST {PATH} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
    .problem(411);
    // Refused from the header alone: the body is never read.
    let huge = format!("POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n");
    let p = raw(&server, huge.as_bytes()).problem(413);
    assert_eq!(p["kind"], "too-large");
    // Not HTTP at all: hyper's own 400, without a body (its parser has no
    // hook for one); everything parsed as a request is a problem.
    assert_eq!(raw(&server, b"NONSENSE\r\n\r\n").status, 400);
    assert_eq!(server.list(None)["accepted"], 0);
}

#[test]
fn a_corrupt_data_directory_stops_the_start_naming_the_file() {
    let data = common::TempDir::new();
    let data = data.path();
    std::fs::create_dir_all(data.join("snapshots")).unwrap();
    std::fs::write(data.join("snapshots/000000000001.json"), b"not json").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it must not say it listens");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("000000000001.json"), "{err}");
}

#[test]
fn sigterm_answers_the_requests_in_flight_then_exits_0() {
    let data = common::TempDir::new();
    let mut server = Server::start(data.path(), &["--delay-ms", "1500"]);
    server.post_through_sigterm(&[sample()]);
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    server.wait_for("serve: stopped");
    let again = Server::start(data.path(), &[]);
    assert_eq!(again.list(None)["accepted"], 1);
}

#[test]
fn sigterm_finishes_every_accepted_request_and_closes_idle_connections() {
    let data = common::TempDir::new();
    let mut server = Server::start(data.path(), &["--delay-ms", "1500"]);
    let requests = many(3);
    // A kept connection with nothing in flight.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.set_read_timeout(Some(PATIENCE)).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut idle).expect("healthz").status, 200);
    for reply in server.post_through_sigterm(&requests) {
        assert_eq!(reply.json()["duplicate"], false);
    }
    // The idle connection was closed rather than kept waiting.
    assert!(read_reply(&mut idle).is_none());
    assert_eq!(server.child.wait().unwrap().code(), Some(0));
    server.wait_for("serve: stopped");
    let again = Server::start(data.path(), &[]);
    assert_eq!(again.list(None)["accepted"], 3);
}

/// A record of the one-file-per-snapshot format `serve` wrote before it had
/// a database, for `r` accepted as `sequence`.
fn legacy_record(r: &PublishRequest, sequence: u64) -> Value {
    let body = String::from_utf8(r.body.clone()).unwrap();
    let routing = serde_json::json!(["jira", "acme.atlassian.net", "jira_project", "ACME"]);
    serde_json::json!({
        "sequence": sequence,
        "idempotency_key": r.idempotency_key,
        "body_sha256": tracker_publish::idempotency::content_key(&r.body),
        "routing_key": routing,
        "status": 200,
        "response": {
            "accepted": true, "duplicate": false, "sequence": sequence,
            "idempotency_key": r.idempotency_key, "scheme": "v1",
            "routing_key": routing, "provider": "jira", "workspace": "acme.atlassian.net",
            "external_resource_type": "jira_project", "external_resource_id": "ACME",
            "issues": 2, "mappings": 1
        },
        "body": body,
    })
}

fn write_legacy(data: &Path, name: &str, record: &Value) {
    let dir = data.join("snapshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), serde_json::to_vec(record).unwrap()).unwrap();
}

/// `serve` on `data` expected to refuse to start; its standard error.
fn refused_start(data: &Path) -> String {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it must not say it listens");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_directory_of_the_old_format_is_imported_once_losing_nothing() {
    let data = common::TempDir::new();
    let r = sample();
    let record = legacy_record(&r, 7);
    write_legacy(data.path(), "000000000007.json", &record);
    // What a write interrupted before its rename left behind: ignored.
    std::fs::write(
        data.path().join("snapshots/.000000000008.json.tmp"),
        b"{\"seq",
    )
    .unwrap();
    {
        let server = Server::start(data.path(), &[]);
        server.wait_for("imported 1 snapshot(s)");
        let list = server.list(None);
        assert_eq!(list["accepted"], 1, "{list}");
        assert_eq!(list["snapshots"][0]["sequence"], 7);
        let replay = server.post(&r);
        assert_eq!(replay.status, 200, "{}", replay.text());
        let mut expected = record["response"].clone();
        expected["duplicate"] = Value::Bool(true);
        assert_eq!(replay.json(), expected, "the imported first response");
        server.post(&edited(&r)).problem(422);
        let next = server.post(&request("jira happy path", IdempotencyScheme::Content));
        assert_eq!(next.json()["sequence"], 8, "the sequence continues");
    }
    // Kept, renamed, and not imported again.
    assert!(
        data.path()
            .join("snapshots.imported/000000000007.json")
            .exists()
    );
    let server = Server::start(data.path(), &[]);
    server.wait_for("2 accepted snapshot(s) in");
    assert_eq!(server.list(None)["accepted"], 2);
}

#[test]
fn a_malformed_stored_record_stops_the_start_naming_the_file_and_field() {
    let r = sample();
    let good = legacy_record(&r, 1);
    /// Spoils one field of a good record.
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 6] = [
        (
            "no sequence",
            |v| {
                v.as_object_mut().unwrap().remove("sequence");
            },
            "no sequence",
        ),
        (
            "sequence a string",
            |v| v["sequence"] = "1".into(),
            "sequence: expected a whole number",
        ),
        (
            "key a number",
            |v| v["idempotency_key"] = 5.into(),
            "idempotency_key: expected a string",
        ),
        (
            "empty key",
            |v| v["idempotency_key"] = "".into(),
            "idempotency_key: empty",
        ),
        (
            "routing not strings",
            |v| v["routing_key"] = serde_json::json!([1, 2]),
            "routing_key: expected an array of strings",
        ),
        (
            "body edited",
            |v| v["body"] = "{}".into(),
            "body_sha256: not the SHA-256 of body",
        ),
    ];
    for (what, edit, expected) in cases {
        let data = common::TempDir::new();
        write_legacy(data.path(), "000000000001.json", &good);
        let mut bad = good.clone();
        edit(&mut bad);
        write_legacy(data.path(), "000000000002.json", &bad);
        let err = refused_start(data.path());
        assert!(
            err.contains("000000000002.json") && err.contains(expected),
            "{what}: {err}"
        );
        // Nothing imported: the directory is still there for the next start.
        assert!(
            data.path().join("snapshots/000000000001.json").exists(),
            "{what}"
        );
    }
}

#[test]
fn requests_share_a_persistent_connection() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let r = sample();
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let bytes = post_bytes(&r);
    // Two POSTs and a GET, the last two pipelined behind the first.
    let mut all = bytes.clone();
    all.extend_from_slice(&bytes);
    all.extend_from_slice(format!("GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    s.write_all(&all).unwrap();
    let first = read_reply(&mut s).expect("first");
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("connection"), Some("keep-alive"));
    let second = read_reply(&mut s).expect("second");
    assert_eq!(second.json()["duplicate"], true);
    let list = read_reply(&mut s).expect("third");
    assert_eq!(list.json()["accepted"], 1);
    // And once more after the pipeline ran dry.
    s.write_all(format!("GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let last = read_reply(&mut s).expect("fourth");
    assert_eq!(last.header("connection"), Some("close"));
    assert!(
        read_reply(&mut s).is_none(),
        "closed after Connection: close"
    );
}

#[test]
fn past_max_in_flight_is_503_with_retry_after() {
    let data = common::TempDir::new();
    let server = Server::start(
        data.path(),
        &[
            "--max-in-flight",
            "1",
            "--delay-ms",
            "3000",
            "--retry-after",
            "2",
        ],
    );
    let r = sample();
    std::thread::scope(|scope| {
        let held = scope.spawn(|| server.post(&r));
        server.wait_for("holding key=");
        let busy = server.post(&request("jira happy path", IdempotencyScheme::Content));
        let p = busy.problem(503);
        assert_eq!(busy.header("retry-after"), Some("2"));
        assert!(
            p["detail"].as_str().unwrap().contains("--max-in-flight"),
            "{p}"
        );
        // The probes are not counted.
        let health = raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(health.status, 200);
        assert_eq!(held.join().unwrap().status, 200);
    });
}

#[test]
fn healthz_and_readyz() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--token", "t0k"]);
    let h = raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((h.status, h.json()["status"].clone()), (200, "ok".into()));
    let r = raw(&server, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, "ready".into())
    );
    raw(
        &server,
        b"POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .problem(405);
    server.wait_for("-> 200 ready in");
}

#[test]
fn the_list_is_paginated() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &[]);
    let cases = [
        "issues, mappings and checkpoint",
        "jira happy path",
        "linear happy path",
        "unsupported provider beads",
    ];
    for case in cases {
        let reply = server.post(&request(case, IdempotencyScheme::Content));
        assert_eq!(reply.status, 200, "{case}: {}", reply.text());
    }
    let get = |query: &str| {
        raw(
            &server,
            format!("GET {PATH}{query} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        )
    };
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = get(&query).json();
        assert_eq!(page["accepted"], 4);
        for s in page["snapshots"].as_array().unwrap() {
            seen.push(s["sequence"].as_u64().unwrap());
        }
        match page["next"].as_str() {
            Some(next) => query = next.trim_start_matches(PATH).to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, [1, 2, 3, 4]);
    let p = get("?limit=0").problem(400);
    assert!(p["detail"].as_str().unwrap().starts_with("limit:"), "{p}");
    get("?after=x").problem(400);
}

#[test]
fn past_max_connections_a_new_connection_is_503_and_closed() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--max-connections", "1"]);
    // One connection, kept open (idle after a request).
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.set_read_timeout(Some(PATIENCE)).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut kept).expect("kept").status, 200);
    let refused = raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let p = refused.problem(503);
    assert!(
        p["detail"].as_str().unwrap().contains("--max-connections"),
        "{p}"
    );
    assert_eq!(refused.header("connection"), Some("close"));
    assert!(refused.header("retry-after").is_some());
    // The kept connection still serves.
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut kept).expect("kept again").status, 200);
}

#[test]
fn two_processes_on_one_data_directory_accept_each_key_once() {
    let data = common::TempDir::new();
    let servers = [
        Server::start(data.path(), &[]),
        Server::start(data.path(), &[]),
    ];
    let mut requests = vec![sample()];
    for case in [
        "jira happy path",
        "linear happy path",
        "unsupported provider beads",
    ] {
        requests.push(request(case, IdempotencyScheme::Content));
    }
    let fresh = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (servers, requests, fresh) = (&servers, &requests, &fresh);
            scope.spawn(move || {
                for (i, r) in requests.iter().enumerate() {
                    let reply = servers[(t + i) % 2].post(r);
                    match reply.status {
                        200 if reply.json()["duplicate"] == false => {
                            fresh.fetch_add(1, Ordering::SeqCst);
                        }
                        200 => assert_eq!(reply.json()["duplicate"], true),
                        // In flight in the same process.
                        409 => {}
                        s => panic!("{s}: {}", reply.text()),
                    }
                }
            });
        }
    });
    assert_eq!(
        fresh.load(Ordering::SeqCst),
        requests.len(),
        "one accept per key"
    );
    for s in &servers {
        let list = s.list(None);
        assert_eq!(list["accepted"], requests.len(), "{list}");
        let mut seqs: Vec<u64> = list["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sequence"].as_u64().unwrap())
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }
}

#[test]
fn a_kill_under_concurrent_load_loses_nothing_acknowledged() {
    let data = common::TempDir::new();
    let requests = many(400);
    let acked = Mutex::new(Vec::new());
    {
        let server = Server::start(data.path(), &[]);
        let (next, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(r) = requests.get(i) else { break };
                        match try_post(&server.addr, r) {
                            Some(reply) if reply.status == 200 => {
                                acked.lock().unwrap().push(r.idempotency_key.clone());
                            }
                            // Killed: no answer, nothing promised.
                            _ => break,
                        }
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
            // Kill -9 once a good part is acknowledged, requests still in flight.
            while acked.lock().unwrap().len() < 100 && finished.load(Ordering::SeqCst) < 16 {
                std::thread::yield_now();
            }
            server.signal("KILL");
        });
    }
    let acked = acked.into_inner().unwrap();
    assert!(acked.len() >= 100);
    let server = Server::start(data.path(), &[]);
    let stored: std::collections::HashSet<String> =
        server.listed().into_iter().map(|(_, k)| k).collect();
    let lost: Vec<&String> = acked.iter().filter(|k| !stored.contains(*k)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged but lost: {lost:?}",
        lost.len()
    );
}
