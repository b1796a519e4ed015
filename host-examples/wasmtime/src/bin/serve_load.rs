//! `serve-load`: the load generator of the `serve` benchmark (`make
//! bench-serve`). Many concurrent publishers send valid snapshots (bodies
//! and keys computed by the core, content scheme), some replays and some
//! conflicting bodies under a used key, to one or more `serve` instances;
//! then every acknowledged snapshot is looked up in the listing.
//!
//! Prints one JSON object: requests, seconds, requests_per_second, p50_ms,
//! p99_ms, max_ms, and the counts that must be zero: double_accepts,
//! lost_acknowledged, wrong_status (plus retries after 503 or connection
//! errors, which a kill makes happen).
//!
//! Usage: serve-load --url http://127.0.0.1:P [--url ...] [--publishers 64]
//!   [--snapshots 20000] [--body-bytes 1000] [--replay-percent 10]
//!   [--conflict-percent 1] [--large-percent 0] [--large-bytes 1048576]
//!
//! `--large-percent P`: P% of the snapshots (their replays and conflicts
//! too) have bodies of `--large-bytes` instead of `--body-bytes`.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tracker_publish::idempotency::content_key;
use tracker_publish::request::SNAPSHOTS_PATH;
use tracker_publish::{IdempotencyScheme, PublishOptions, build_snapshot_payload_json};

struct Args {
    urls: Vec<String>,
    publishers: usize,
    snapshots: usize,
    body_bytes: usize,
    replay_percent: u64,
    conflict_percent: u64,
    large_bytes: usize,
    large_percent: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        urls: Vec::new(),
        publishers: 64,
        snapshots: 20_000,
        body_bytes: 1_000,
        replay_percent: 10,
        conflict_percent: 1,
        large_bytes: 1 << 20,
        large_percent: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag}: needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a whole number"))
        };
        match flag.as_str() {
            "--url" => a.urls.push(value()?.trim_end_matches('/').to_owned()),
            "--publishers" => a.publishers = number(value()?)?.max(1) as usize,
            "--snapshots" => a.snapshots = number(value()?)? as usize,
            "--body-bytes" => a.body_bytes = number(value()?)? as usize,
            "--replay-percent" => a.replay_percent = number(value()?)?,
            "--conflict-percent" => a.conflict_percent = number(value()?)?,
            "--large-bytes" => a.large_bytes = number(value()?)? as usize,
            "--large-percent" => a.large_percent = number(value()?)?.min(100),
            _ => return Err(format!("{flag}: unknown option")),
        }
    }
    if a.urls.is_empty() {
        return Err("--url: at least one is needed".into());
    }
    Ok(a)
}

/// Placeholder in the template body, replaced by a number per snapshot.
const SLOT: &str = "spec-kitty-0000000000";

/// A valid body of about `bytes` bytes whose project slug is [`SLOT`].
fn template(bytes: usize) -> Vec<u8> {
    let issue = |i: usize| {
        json!({
            "ref": {"system": "jira", "workspace": "acme.atlassian.net", "id": format!("{}", 10000 + i),
                    "key": format!("ACME-{i}"), "url": null},
            "title": format!("Fix the login page crash number {i} on mobile and desktop"),
            "body": "Steps: open the page, click login, wait. The page crashes with a blank screen; expected the dashboard. Seen on Firefox and Chrome, both current.",
            "status": "todo", "issue_type": "bug", "priority": 2, "assignees": ["ana"],
            "labels": ["auth"], "updated_at": "2026-03-10T08:30:00+00:00",
        })
    };
    let build = |n: usize| {
        let input = json!({
            "server_url": "https://example.com",
            "auth_token": "bench-token",
            "provider": "jira",
            "workspace": "acme.atlassian.net",
            "doctrine_mode": "external_authoritative",
            "doctrine_field_owners": {},
            "credentials": {"project_key": "ACME"},
            "project_uuid": "550e8400-e29b-41d4-a716-446655440000",
            "project_slug": SLOT,
            "issues": (0..n).map(issue).collect::<Vec<_>>(),
            "mappings": [],
            "checkpoint": null,
        });
        build_snapshot_payload_json(
            &input.to_string(),
            &PublishOptions {
                idempotency: IdempotencyScheme::Content,
            },
        )
        .expect("the bench input is valid")
        .body
    };
    let (empty, ten) = (build(0).len(), build(10).len());
    let per = ((ten - empty) / 10).max(1);
    let mut n = bytes.saturating_sub(empty).div_ceil(per);
    loop {
        let b = build(n);
        if b.len() >= bytes {
            return b;
        }
        n += n / 100 + 1;
    }
}

fn body(template: &[u8], i: u64, variant: u64) -> Vec<u8> {
    let text = std::str::from_utf8(template).expect("UTF-8");
    let slot = format!("spec-kitty-{:06}{:04}", i % 1_000_000, variant % 10_000);
    text.replacen(SLOT, &slot, 1).into_bytes()
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    /// Key -> times a 200 with duplicate:false came back.
    accepted: HashMap<String, u32>,
    wrong: Vec<String>,
}

enum Kind {
    New,
    Replay,
    Conflict,
}

/// Whether snapshot `i` has a large body: a draw of its own, apart from
/// the one choosing replays and conflicts.
fn large(i: u64, percent: u64) -> bool {
    draw(i ^ 0x4C41_5247_4500_0000) < percent
}

fn draw(n: u64) -> u64 {
    let mut z = n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 100
}

/// One request until it gets an answer that is not 503 (or a connection
/// error): its status and JSON body.
fn send(
    agent: &ureq::Agent,
    url: &str,
    key: &str,
    body: &[u8],
    retries: &AtomicU64,
    latencies: &mut Vec<u64>,
) -> (u16, Value) {
    let give_up = Instant::now() + Duration::from_secs(120);
    loop {
        let started = Instant::now();
        let r = agent
            .post(format!("{url}{SNAPSHOTS_PATH}"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .header("Authorization", "Bearer bench-token")
            .send(body);
        let wait = match r {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                latencies.push(started.elapsed().as_micros() as u64);
                if status != 503 {
                    return (status, serde_json::from_str(&text).unwrap_or(Value::Null));
                }
                let after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1);
                Duration::from_millis(after.min(2) * 100 + 20)
            }
            Err(_) => Duration::from_millis(100),
        };
        retries.fetch_add(1, Ordering::Relaxed);
        if Instant::now() > give_up {
            return (0, Value::Null);
        }
        std::thread::sleep(wait);
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Every idempotency key any of the instances lists.
fn stored_keys(agent: &ureq::Agent, url: &str) -> Result<HashSet<String>, String> {
    let mut keys = HashSet::new();
    let mut next = format!("{SNAPSHOTS_PATH}?limit=1000");
    loop {
        let mut resp = agent
            .get(format!("{url}{next}"))
            .header("Authorization", "Bearer bench-token")
            .call()
            .map_err(|e| format!("listing: {e}"))?;
        let page: Value = serde_json::from_str(
            &resp
                .body_mut()
                .read_to_string()
                .map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("listing: {e}"))?;
        for s in page["snapshots"].as_array().into_iter().flatten() {
            if let Some(k) = s["idempotency_key"].as_str() {
                keys.insert(k.to_owned());
            }
        }
        match page["next"].as_str() {
            Some(n) => next = n.to_owned(),
            None => return Ok(keys),
        }
    }
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("serve-load: {e}");
            return ExitCode::from(2);
        }
    };
    let small = template(a.body_bytes);
    let big = if a.large_percent > 0 {
        template(a.large_bytes)
    } else {
        Vec::new()
    };
    let large_requests = AtomicU64::new(0);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections(a.publishers * 2)
        .max_idle_connections_per_host(a.publishers * 2)
        .build()
        .into();
    let next = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let tally = Mutex::new(Tally::default());
    let total = a.snapshots as u64;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..a.publishers {
            let (agent, small, big, next, retries, tally, a, large_requests) = (
                &agent,
                &small,
                &big,
                &next,
                &retries,
                &tally,
                &a,
                &large_requests,
            );
            let template = |j: u64| -> &[u8] {
                if large(j, a.large_percent) {
                    big
                } else {
                    small
                }
            };
            scope.spawn(move || {
                let url = &a.urls[w % a.urls.len()];
                let mut local = Tally::default();
                let mut mine: Vec<(String, u64)> = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let d = draw(i);
                    let kind = if mine.is_empty() || d >= a.replay_percent + a.conflict_percent {
                        Kind::New
                    } else if d < a.conflict_percent {
                        Kind::Conflict
                    } else {
                        Kind::Replay
                    };
                    let (key, bytes, expect) = match kind {
                        Kind::New => {
                            let b = body(template(i), i, 0);
                            let k = content_key(&b);
                            mine.push((k.clone(), i));
                            (k, b, 200)
                        }
                        Kind::Replay => {
                            let (k, j) = mine[(i as usize) % mine.len()].clone();
                            (k, body(template(j), j, 0), 200)
                        }
                        Kind::Conflict => {
                            let (k, j) = mine[(i as usize) % mine.len()].clone();
                            (k, body(template(j), j, 1), 422)
                        }
                    };
                    if bytes.len() > small.len() {
                        large_requests.fetch_add(1, Ordering::Relaxed);
                    }
                    let (status, v) =
                        send(agent, url, &key, &bytes, retries, &mut local.latencies_us);
                    if status != expect {
                        local
                            .wrong
                            .push(format!("#{i}: {status} (expected {expect}) {v}"));
                        continue;
                    }
                    if matches!(kind, Kind::New) && v["duplicate"] == false {
                        *local.accepted.entry(key).or_default() += 1;
                    } else if matches!(kind, Kind::Replay) && v["duplicate"] == false {
                        // A replay accepted anew: the first accept was another.
                        *local.accepted.entry(key).or_default() += 1;
                    }
                }
                let mut t = tally.lock().unwrap();
                t.latencies_us.extend(local.latencies_us);
                for (k, n) in local.accepted {
                    *t.accepted.entry(k).or_default() += n;
                }
                t.wrong.extend(local.wrong);
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut t = tally.into_inner().unwrap();
    t.latencies_us.sort_unstable();
    let mut stored = HashSet::new();
    for url in &a.urls {
        match stored_keys(&agent, url) {
            Ok(k) => stored.extend(k),
            Err(e) => {
                eprintln!("serve-load: {url}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let lost = t.accepted.keys().filter(|k| !stored.contains(*k)).count();
    let double = t.accepted.values().filter(|&&n| n > 1).count();
    for w in t.wrong.iter().take(5) {
        eprintln!("serve-load: wrong status {w}");
    }
    let out = json!({
        "requests": total,
        "seconds": seconds,
        "requests_per_second": total as f64 / seconds,
        "p50_ms": percentile(&t.latencies_us, 0.50),
        "p99_ms": percentile(&t.latencies_us, 0.99),
        "max_ms": percentile(&t.latencies_us, 1.0),
        "body_bytes": small.len(),
        "large_bytes": big.len(),
        "large_requests": large_requests.load(Ordering::Relaxed),
        "accepted": t.accepted.len(),
        "stored": stored.len(),
        "double_accepts": double,
        "lost_acknowledged": lost,
        "wrong_status": t.wrong.len(),
        "retries": retries.load(Ordering::Relaxed),
    });
    println!("{out}");
    ExitCode::SUCCESS
}
