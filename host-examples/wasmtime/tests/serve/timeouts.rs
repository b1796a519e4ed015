//! `serve --write-timeout-seconds`: a client that sends requests and stops
//! reading the responses loses its connection, and its slot serves others;
//! `--read-timeout-seconds`: a client that stops sending does too.

use std::io::Write;
use std::net::TcpStream;

use super::common;
use super::support::{
    PATH, PATIENCE, Server, many, post_bytes, raw, read_reply, read_until_closed, sample,
};

/// More response bytes than loopback's socket buffers hold between a server
/// and a client that never reads (a few MiB each way).
const STALLED_BYTES: usize = 48 << 20;

#[test]
fn a_client_that_stops_reading_is_closed_and_its_slot_serves_others() {
    let data = common::TempDir::new();
    {
        // Enough snapshots for a listing page of some size.
        let seed = Server::start(data.path(), &[]);
        for r in many(200) {
            assert_eq!(seed.post(&r).status, 200);
        }
    }
    let server = Server::start(
        data.path(),
        &["--max-connections", "2", "--write-timeout-seconds", "1"],
    );
    let get = format!("GET {PATH}?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    let page = raw(&server, get.as_bytes());
    assert_eq!(page.json()["accepted"], 200);
    let pipelined = STALLED_BYTES / page.body.len() + 1;

    // The stalled client: its requests pipelined in one write, then nothing read.
    let mut stalled = TcpStream::connect(&server.addr).unwrap();
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    stalled.write_all(get.repeat(pipelined).as_bytes()).unwrap();

    // Meanwhile the other slot serves, on a kept connection.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.set_read_timeout(Some(PATIENCE)).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut kept).expect("kept").status, 200);

    server.wait_for("connection closed: writing the response: no progress for 1 s");
    // The server closed the stalled connection: reading it now ends (what
    // was buffered, then end of stream or a reset) instead of waiting.
    let sink = read_until_closed(&mut stalled);
    assert!(
        sink.len() < pipelined * page.body.len(),
        "every response was read ({} bytes): the client never stalled",
        sink.len()
    );

    // Its slot is free again (given back before that log line): a new
    // connection is served.
    let again = raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(again.status, 200, "{}", again.text());
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut kept).expect("kept again").status, 200);
}

#[test]
fn a_client_that_stops_sending_is_closed() {
    let data = common::TempDir::new();
    let server = Server::start(data.path(), &["--read-timeout-seconds", "1"]);
    // Half a head, then nothing: closed without an answer.
    let mut stalled = TcpStream::connect(&server.addr).unwrap();
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    stalled.write_all(b"GET /healthz HTTP/1.1\r\nHo").unwrap();
    let sink = read_until_closed(&mut stalled);
    assert!(sink.is_empty(), "{}", String::from_utf8_lossy(&sink));
    // A head and half the body, then nothing: a 400 naming the option, and
    // closed.
    let r = sample();
    let mut half = TcpStream::connect(&server.addr).unwrap();
    half.set_read_timeout(Some(PATIENCE)).unwrap();
    let bytes = post_bytes(&r);
    half.write_all(&bytes[..bytes.len() - r.body.len() / 2])
        .unwrap();
    let p = read_reply(&mut half).expect("a 400").problem(400);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("--read-timeout-seconds"), "{p}");
    assert!(read_reply(&mut half).is_none(), "closed after the 400");
    // Nothing stored; the server serves on.
    let health = raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(health.status, 200);
    assert_eq!(server.list(None)["accepted"], 0);
}
