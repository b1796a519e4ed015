//! The retry-policy table (`tests/retry_policy.json`), compiled into every
//! Rust test that runs it (natively, and through the component in wasmtime).

#![allow(dead_code)]

use serde_json::Value;
use tracker_publish::{
    AttemptOutcome, AttemptReport, RetryDecision, RetryOptions, StopReason, decide_retry,
};

/// The table; `include_str!` makes a missing file a build failure.
pub const TABLE: &str = include_str!("../retry_policy.json");

/// The number of cases the table held when this was written: fewer means
/// cases went missing.
pub const MIN_CASES: usize = 74;

/// One row: the report and options given, the decision expected.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub outcome: AttemptOutcome,
    pub attempt: u32,
    pub earlier_unanswered: bool,
    pub retry_after: Option<String>,
    pub now_unix_ms: u64,
    pub random: u32,
    pub options: RetryOptions,
    pub expect: RetryDecision,
}

impl Case {
    /// The report as the core takes it.
    pub fn report(&self) -> AttemptReport<'_> {
        AttemptReport {
            attempt: self.attempt,
            outcome: self.outcome,
            earlier_unanswered: self.earlier_unanswered,
            retry_after: self.retry_after.as_deref(),
            now_unix_ms: self.now_unix_ms,
            random: self.random,
        }
    }

    /// The native decision (what every host must agree with).
    pub fn native(&self) -> RetryDecision {
        decide_retry(&self.report(), &self.options)
    }

    /// `Ok` when `got` is the expected decision.
    pub fn check(&self, got: RetryDecision) -> Result<(), String> {
        if got == self.expect {
            Ok(())
        } else {
            Err(format!(
                "{}: expected {:?}, got {got:?}",
                self.name, self.expect
            ))
        }
    }
}

fn u(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what}: expected an integer, found {v}"))
}

fn stop(name: &str) -> StopReason {
    [
        StopReason::Success,
        StopReason::NotRetryable,
        StopReason::AttemptsExhausted,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .unwrap_or_else(|| panic!("unknown stop reason {name:?}"))
}

/// Every case of the table; panics when the file is malformed or short.
pub fn cases() -> Vec<Case> {
    let table: Value = serde_json::from_str(TABLE).expect("tests/retry_policy.json is JSON");
    let rows = table["cases"].as_array().expect("cases: a list");
    assert!(
        rows.len() >= MIN_CASES,
        "tests/retry_policy.json: {} cases, expected at least {MIN_CASES}",
        rows.len()
    );
    rows.iter()
        .map(|c| {
            let name = c["name"].as_str().expect("name").to_owned();
            let r = &c["report"];
            let o = &c["options"];
            let outcome = match r["outcome"].as_str() {
                Some("status") => AttemptOutcome::Status(
                    u16::try_from(u(&r["status"], "report.status")).expect("a u16 status"),
                ),
                Some("connection-error") => AttemptOutcome::ConnectionError,
                Some("timeout") => AttemptOutcome::Timeout,
                other => panic!("{name}: unknown outcome {other:?}"),
            };
            let e = &c["expect"];
            let expect = match (e.get("retry_in_ms"), e.get("stop")) {
                (Some(ms), None) => RetryDecision::RetryInMs(u(ms, "expect.retry_in_ms")),
                (None, Some(s)) => RetryDecision::Stop(stop(s.as_str().expect("expect.stop"))),
                _ => panic!("{name}: expect needs retry_in_ms or stop"),
            };
            Case {
                outcome,
                attempt: u32::try_from(u(&r["attempt"], "attempt")).expect("a u32"),
                earlier_unanswered: r["earlier_unanswered"].as_bool().expect("a bool"),
                retry_after: r["retry_after"].as_str().map(str::to_owned),
                now_unix_ms: u(&r["now_unix_ms"], "now_unix_ms"),
                random: u32::try_from(u(&r["random"], "random")).expect("a u32"),
                options: RetryOptions {
                    max_attempts: u32::try_from(u(&o["max_attempts"], "max_attempts"))
                        .expect("a u32"),
                    base_delay_ms: u(&o["base_delay_ms"], "base_delay_ms"),
                    max_delay_ms: u(&o["max_delay_ms"], "max_delay_ms"),
                },
                expect,
                name,
            }
        })
        .collect()
}
