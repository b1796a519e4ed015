//! The `tracker-publish` command as a user runs it: real process, real
//! component, real pipes.

#[path = "../../../tests/support/vectors.rs"]
mod vectors;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use vectors::{Expected, cases};

const BIN: &str = env!("CARGO_BIN_EXE_tracker-publish");

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tracker-publish");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for tracker-publish");
    writer.join().unwrap();
    out
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn case(name: &str) -> vectors::Case {
    cases()
        .into_iter()
        .find(|c| c.name == name)
        .expect("vector")
}

fn expected_json(c: &vectors::Case, show_secrets: bool) -> Value {
    match &c.expected {
        Expected::Request {
            endpoint,
            headers,
            body,
            idempotency_key,
        } => {
            let headers: Vec<Value> = headers
                .iter()
                .map(|(n, v)| {
                    let v = if n == "Authorization" && !show_secrets {
                        "Bearer ***"
                    } else {
                        v
                    };
                    serde_json::json!([n, v])
                })
                .collect();
            serde_json::json!({"endpoint": endpoint, "headers": headers, "body": body, "idempotency_key": idempotency_key})
        }
        Expected::Error(kind) => serde_json::json!({"error": {"kind": kind}}),
    }
}

#[test]
fn preview_with_show_secrets_prints_the_exact_request() {
    let c = case("jira happy path");
    let out = run(&["preview", "--show-secrets"], c.input_json.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out), expected_json(&c, true));
}

#[test]
fn preview_masks_the_token_by_default() {
    let c = case("jira happy path");
    let out = run(&["preview"], c.input_json.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out), expected_json(&c, false));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("test-token"));
}

#[test]
fn preview_reads_a_file() {
    let c = case("linear happy path");
    let path = std::env::temp_dir().join(format!("tp-cli-{}.json", std::process::id()));
    std::fs::write(&path, &c.input_json).unwrap();
    let out = run(
        &[
            "preview",
            "--show-secrets",
            "--input",
            path.to_str().unwrap(),
        ],
        b"",
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out), expected_json(&c, true));
}

#[test]
fn content_scheme_keys_on_the_body() {
    use sha2::{Digest, Sha256};
    let c = case("issues, mappings and checkpoint");
    let out = run(
        &["preview", "--idempotency", "content"],
        c.input_json.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let v = stdout_json(&out);
    let body = v["body"].as_str().unwrap();
    let key = v["idempotency_key"].as_str().unwrap();
    assert_eq!(key, hex::encode(Sha256::digest(body.as_bytes())));
    assert_eq!(v["headers"][1], serde_json::json!(["Idempotency-Key", key]));
}

#[test]
fn a_refusal_exits_2_with_the_error_object_and_never_the_token() {
    let c = case("refused: token with CR LF");
    let out = run(&["preview", "--show-secrets"], c.input_json.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let v = stdout_json(&out);
    assert_eq!(v["error"]["kind"], "invalid-auth-token");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    assert!(stderr.contains("invalid-auth-token"));
    for text in [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr.into_owned(),
    ] {
        assert!(!text.contains("X-Evil"), "token leaked: {text}");
    }
}

#[test]
fn malformed_input_names_the_field_path() {
    let c = case("issues, mappings and checkpoint");
    let mut v: Value = serde_json::from_str(&c.input_json).unwrap();
    v["issues"][1]["ref"]["id"] = serde_json::json!(7);
    let out = run(&["preview"], v.to_string().as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let e = stdout_json(&out);
    assert_eq!(e["error"]["kind"], "invalid-input");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("issues[1].ref.id"),
        "{e}"
    );

    let out = run(&["preview"], b"{\"server_url\": ");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout_json(&out)["error"]["kind"], "invalid-input");
}

#[test]
fn invalid_utf8_on_stdin_is_invalid_input() {
    let out = run(&["preview"], b"{\"server_url\": \"\xff\"}");
    assert_eq!(out.status.code(), Some(2));
    let e = stdout_json(&out);
    assert_eq!(e["error"]["kind"], "invalid-input");
    assert!(e["error"]["message"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn missing_input_file_is_refused_naming_it() {
    let out = run(&["preview", "--input", "/nonexistent/snapshot.json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout_json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/snapshot.json")
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = run(&["preview", "--idempotency", "v2"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["frobnicate"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_documents_every_option() {
    let out = run(&["preview", "--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--input",
        "--jsonl",
        "--show-secrets",
        "--idempotency",
        "v1",
        "content",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn jsonl_answers_every_line_in_order() {
    let all = cases();
    let mut input = Vec::new();
    for c in &all {
        input.extend_from_slice(c.input_json.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{not json}\n");
    input.extend_from_slice(b"\xff\xfe\n");
    input.extend_from_slice(all[0].input_json.as_bytes()); // last line without a newline
    let out = run(&["preview", "--jsonl", "--show-secrets"], &input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), all.len() + 3);
    for (c, got) in all.iter().zip(&lines) {
        match &c.expected {
            Expected::Error(kind) => assert_eq!(got["error"]["kind"], kind.as_str(), "{}", c.name),
            Expected::Request { .. } => assert_eq!(got, &expected_json(c, true), "{}", c.name),
        }
    }
    assert_eq!(lines[all.len()]["error"]["kind"], "invalid-input");
    assert_eq!(lines[all.len() + 1]["error"]["kind"], "invalid-input");
    assert_eq!(lines[all.len() + 2], expected_json(&all[0], true));
}

/// Peak resident memory of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn jsonl_streams_100000_lines_in_constant_memory() {
    let line = format!("{}\n", case("issues, mappings and checkpoint").input_json);
    let mut child = Command::new(BIN)
        .args(["preview", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    // The writer keeps standard input open until the reader has sampled memory.
    let writer = std::thread::spawn(move || {
        let chunk = line.repeat(1000);
        for _ in 0..100 {
            stdin.write_all(chunk.as_bytes()).unwrap();
        }
        stdin.flush().unwrap();
        let _ = done_rx.recv();
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut answer = String::new();
    let mut rss_at_10k = 0;
    for answered in 1..=100_000 {
        answer.clear();
        stdout.read_line(&mut answer).unwrap();
        assert!(
            answer.starts_with("{\"endpoint\""),
            "line {answered}: {answer}"
        );
        if answered == 10_000 {
            rss_at_10k = peak_rss_kib(pid);
        }
    }
    let rss_at_100k = peak_rss_kib(pid);
    done_tx.send(()).unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    // Ten times the lines must not mean more memory: allow 4 MiB of slack.
    assert!(
        rss_at_100k <= rss_at_10k + 4096,
        "peak memory grew from {rss_at_10k} KiB after 10,000 lines to {rss_at_100k} KiB after 100,000"
    );
}
