//! `tracker-publish publish`: read a spec-kitty project, compute the request
//! in the component, and POST its exact bytes, retrying under one
//! `Idempotency-Key` when the component's retry policy (`decide-retry`) says
//! so: this side only sends and sleeps.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use tracker_publish::{
    AttemptOutcome, AttemptReport, ErrorKind, IdempotencyScheme, RetryDecision, RetryOptions,
    StopReason,
};
use tracker_publish_host::Error;
use tracker_publish_host::project::{Locations, read_project};
use tracker_publish_host::{Publisher, Request, request_json};

use crate::{fail, refuse_with};

/// Everything `publish` was asked for.
pub struct Options {
    pub server_url: String,
    pub auth_token: Option<String>,
    pub timeout: Duration,
    pub json: bool,
    pub retries: u32,
    pub retry_base: Duration,
    pub scheme: IdempotencyScheme,
    pub dry_run: bool,
    pub show_secrets: bool,
    pub at: Locations,
}

/// The most of a response body kept (the CLI reads it whole; this is plenty
/// for any error or receipt).
const MAX_RESPONSE_BYTES: u64 = 16 << 20;

pub fn run(o: Options) -> ExitCode {
    // With --json or --dry-run a refusal is the error object on stdout too.
    let machine = o.json || o.dry_run;
    let refuse = |e: &Error| refuse_with(e, machine);
    if tracker_publish::normalize::is_blank(&o.server_url) {
        return refuse(&Error::new(
            ErrorKind::InvalidServerUrl,
            "server_url: missing: give --server-url or set SAAS_API_URL",
        ));
    }
    let mut publisher = match Publisher::new() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let token = o.auth_token.clone().filter(|t| !t.is_empty());
    let project = match read_project(&mut publisher, &o.at, o.server_url.clone(), token) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return refuse(&e),
        Err(e) => return fail(e),
    };
    let request = match publisher.build_from_store(&project.input, &project.rows, o.scheme) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return refuse(&e),
        Err(e) => return fail(e),
    };
    if o.dry_run {
        let out = serde_json::to_string_pretty(&request_json(&request, o.show_secrets))
            .unwrap_or_default();
        println!("{out}");
        return ExitCode::SUCCESS;
    }
    send(&mut publisher, &request, &o)
}

/// How one attempt ended.
enum Attempt {
    /// The server answered.
    Answer {
        status: u16,
        content_type: String,
        body: Vec<u8>,
        retry_after: Option<String>,
    },
    /// No answer: connection refused or dropped (`timeout` false), or no
    /// whole answer in time (`timeout` true).
    NoAnswer { why: String, timeout: bool },
}

fn attempt(agent: &ureq::Agent, r: &Request) -> Attempt {
    let no_answer = |why: String| Attempt::NoAnswer {
        why,
        timeout: false,
    };
    let mut req = agent.post(&r.endpoint);
    for (name, value) in &r.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    match req.send(&r.body[..]) {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header("content-type").unwrap_or_default();
            let retry_after = header("retry-after");
            let mut body = Vec::new();
            match resp
                .body_mut()
                .as_reader()
                .take(MAX_RESPONSE_BYTES)
                .read_to_end(&mut body)
            {
                Ok(_) => Attempt::Answer {
                    status,
                    content_type,
                    body,
                    retry_after,
                },
                Err(e) => {
                    let timeout = e.kind() == std::io::ErrorKind::TimedOut;
                    Attempt::NoAnswer {
                        why: format!("the response was cut off: {e}"),
                        timeout,
                    }
                }
            }
        }
        Err(ureq::Error::Timeout(_)) => Attempt::NoAnswer {
            why: "timed out".into(),
            timeout: true,
        },
        Err(ureq::Error::Io(e)) => Attempt::NoAnswer {
            timeout: e.kind() == std::io::ErrorKind::TimedOut,
            why: e.to_string(),
        },
        Err(ureq::Error::ConnectionFailed) => no_answer("connection failed".into()),
        Err(ureq::Error::HostNotFound) => no_answer("host not found".into()),
        Err(e) => no_answer(e.to_string()),
    }
}

/// A number that differs per process and attempt: the policy's jitter
/// needs no quality, only that clients do not retry in lockstep.
fn random(n: u32) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(n);
    (h.finish() >> 32) as u32
}

fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn send(publisher: &mut Publisher, r: &Request, o: &Options) -> ExitCode {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(o.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("tracker-publish/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent: ureq::Agent = config.into();
    let policy = RetryOptions {
        max_attempts: o.retries + 1,
        base_delay_ms: u64::try_from(o.retry_base.as_millis()).unwrap_or(u64::MAX),
        ..RetryOptions::default()
    };
    let total = policy.max_attempts;
    // Whether an earlier attempt got no answer: it may still be running on
    // the server (the policy then waits out a 409).
    let mut earlier_unanswered = false;
    let mut n = 0;
    loop {
        n += 1;
        eprintln!(
            "tracker-publish: attempt {n}/{total}: POST {} ({} bytes, Idempotency-Key {})",
            r.endpoint,
            r.body.len(),
            r.idempotency_key
        );
        let got = attempt(&agent, r);
        let (outcome, retry_after) = match &got {
            Attempt::Answer {
                status,
                retry_after,
                ..
            } => (AttemptOutcome::Status(*status), retry_after.as_deref()),
            Attempt::NoAnswer { timeout: true, .. } => (AttemptOutcome::Timeout, None),
            Attempt::NoAnswer { .. } => (AttemptOutcome::ConnectionError, None),
        };
        let report = AttemptReport {
            attempt: n,
            outcome,
            earlier_unanswered,
            retry_after,
            now_unix_ms: now_unix_ms(),
            random: random(n),
        };
        let wait = match publisher.decide_retry(&report, &policy) {
            Ok(RetryDecision::RetryInMs(ms)) => Duration::from_millis(ms),
            Ok(RetryDecision::Stop(why)) => return finish(r, o, n, &got, why),
            Err(e) => return fail(e),
        };
        let problem = match got {
            Attempt::Answer { status: 409, .. } => {
                "the server is still processing our earlier attempt (409)".to_owned()
            }
            Attempt::Answer { status, .. } => format!("the server answered {status}"),
            Attempt::NoAnswer { why, .. } => {
                earlier_unanswered = true;
                why
            }
        };
        eprintln!(
            "tracker-publish: {problem}; retrying in {:.1} s with the same body and key",
            wait.as_secs_f64()
        );
        std::thread::sleep(wait);
    }
}

/// Prints the result as the CLI does (plus `attempts`) and picks the exit code.
fn finish(r: &Request, o: &Options, attempts: u32, got: &Attempt, why: StopReason) -> ExitCode {
    let (answer, no_answer) = match got {
        Attempt::Answer {
            status,
            content_type,
            body,
            ..
        } => (
            Some((*status, content_type.as_str(), body.as_slice())),
            None,
        ),
        Attempt::NoAnswer { why, .. } => (None, Some(why.as_str())),
    };
    let ok = why == StopReason::Success;
    let body = answer.map(|(_, ct, b)| {
        let text = String::from_utf8_lossy(b);
        if ct.contains("application/json") {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.into_owned()))
        } else {
            serde_json::Value::String(text.into_owned())
        }
    });
    let status = answer.map(|(s, _, _)| s);
    if o.json {
        let mut v = serde_json::json!({
            "attempts": attempts,
            "body": body,
            "endpoint": r.endpoint,
            "idempotency_key": r.idempotency_key,
            "ok": ok,
            "status_code": status,
        });
        if let Some(why) = no_answer {
            v["error"] = serde_json::Value::String(why.to_owned());
        }
        println!("{}", python_json(&v));
    } else {
        println!(
            "{}",
            if ok {
                "Snapshot publish complete"
            } else {
                "Snapshot publish failed"
            }
        );
        println!("- endpoint: {}", r.endpoint);
        match status {
            Some(s) => println!("- status_code: {s}"),
            None => println!("- status_code: none ({})", no_answer.unwrap_or("no answer")),
        }
        println!("- ok: {}", if ok { "yes" } else { "no" });
        println!("- idempotency_key: {}", r.idempotency_key);
        println!("- attempts: {attempts}");
    }
    if ok {
        return ExitCode::SUCCESS;
    }
    let what = match (status, no_answer) {
        (Some(s), _) if why == StopReason::AttemptsExhausted => {
            format!("the server still answered {s} after {attempts} attempts")
        }
        (Some(s), _) => {
            format!("the server refused the snapshot with {s} (not retried: it will not change)")
        }
        (None, Some(why)) => format!("no answer after {attempts} attempts (last: {why})"),
        (None, None) => "no answer".to_owned(),
    };
    eprintln!(
        "tracker-publish: publish failed: {what}. Nothing was changed locally; run the same command again to retry under the same Idempotency-Key {}.",
        r.idempotency_key
    );
    ExitCode::FAILURE
}

/// `json.dumps(v, indent=2, sort_keys=True)` as Python writes it: the CLI's
/// `--json` output format.
pub fn python_json(v: &serde_json::Value) -> String {
    fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for u in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn value(out: &mut String, v: &serde_json::Value, depth: usize) {
        let pad = |out: &mut String, d: usize| {
            out.push('\n');
            out.push_str(&"  ".repeat(d));
        };
        match v {
            serde_json::Value::Null => out.push_str("null"),
            serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            serde_json::Value::Number(n) => out.push_str(&n.to_string()),
            serde_json::Value::String(s) => string(out, s),
            serde_json::Value::Array(a) if a.is_empty() => out.push_str("[]"),
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    value(out, x, depth + 1);
                }
                pad(out, depth);
                out.push(']');
            }
            serde_json::Value::Object(m) if m.is_empty() => out.push_str("{}"),
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    string(out, k);
                    out.push_str(": ");
                    value(out, &m[k], depth + 1);
                }
                pad(out, depth);
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    value(&mut out, v, 0);
    out
}
