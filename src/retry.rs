//! The retry policy of `publish`, decided in one place for every host.
//!
//! A host sends the request, then asks [`decide_retry`] what to do with what
//! it got: send the same bytes under the same `Idempotency-Key` again after a
//! delay, or stop. The function is pure: the host passes in its clock (read
//! only for a `Retry-After` HTTP date) and a random number (the jitter), so
//! the same report always gets the same decision, in every host.
//!
//! The rule (README, "Retries"):
//!
//! - a 2xx stops (`success`);
//! - retried: no answer (connection error or timeout), 408, 425, 429, any
//!   5xx, and a 409 after an earlier attempt of ours got no answer (that
//!   attempt may still be running on the server, which then answers 409
//!   "this key is in process": worth waiting out, after which the server
//!   replays the first answer);
//! - anything else stops (`not-retryable`): it would not change;
//! - a retryable outcome of the last allowed attempt stops
//!   (`attempts-exhausted`);
//! - the delay is exponential backoff with "equal jitter": `base * 2^(n-1)`
//!   capped at `max_delay`, then a point from its half to all of it; when
//!   the answer carries a `Retry-After` (delay-seconds, or an HTTP date in
//!   any of the three forms of RFC 9110 section 5.6.7), the delay is the
//!   larger of the two; and never more than `max_delay`.

/// How one attempt to send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with this HTTP status code.
    Status(u16),
    /// No answer: the connection could not be made, or it was lost before
    /// the whole answer arrived.
    ConnectionError,
    /// No whole answer within the host's time limit for one attempt.
    Timeout,
}

/// The options of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOptions {
    /// Attempts in all, the first one included (0 counts as 1).
    pub max_attempts: u32,
    /// The first backoff, in milliseconds; it doubles on every retry.
    pub base_delay_ms: u64,
    /// The longest wait between two attempts, in milliseconds, whatever
    /// `Retry-After` asks.
    pub max_delay_ms: u64,
}

impl Default for RetryOptions {
    /// 4 attempts (3 retries), 500 ms, 30 s: every host's default.
    fn default() -> Self {
        RetryOptions {
            max_attempts: 4,
            base_delay_ms: 500,
            max_delay_ms: 30_000,
        }
    }
}

/// One finished attempt, as the host saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptReport<'a> {
    /// 1 for the first attempt (0 counts as 1).
    pub attempt: u32,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// An earlier attempt of this publish ended in `ConnectionError` or
    /// `Timeout`: it may still be running on the server.
    pub earlier_unanswered: bool,
    /// The answer's `Retry-After` header value as received; `None` when
    /// absent or when there was no answer.
    pub retry_after: Option<&'a str>,
    /// The host's clock, in milliseconds since the Unix epoch (read only for
    /// a `Retry-After` HTTP date).
    pub now_unix_ms: u64,
    /// A random number, drawn afresh for each report (no quality needed, only
    /// that clients do not retry in lockstep).
    pub random: u32,
}

/// Why the host stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A 2xx: the snapshot was accepted.
    Success,
    /// An answer that sending again would not change.
    NotRetryable,
    /// Worth retrying, but this was the last attempt allowed.
    AttemptsExhausted,
}

impl StopReason {
    /// The kebab-case name, as the WIT and the test table spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Success => "success",
            StopReason::NotRetryable => "not-retryable",
            StopReason::AttemptsExhausted => "attempts-exhausted",
        }
    }
}

/// What the host does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the same request again after this many milliseconds.
    RetryInMs(u64),
    /// Stop: the last answer (or the lack of one) is the result.
    Stop(StopReason),
}

/// True for a status worth sending again (the 409 rule aside).
fn retryable_status(s: u16) -> bool {
    matches!(s, 408 | 425 | 429) || (500..600).contains(&s)
}

/// The decision for one finished attempt (module documentation).
pub fn decide_retry(report: &AttemptReport<'_>, options: &RetryOptions) -> RetryDecision {
    let retry = match report.outcome {
        AttemptOutcome::Status(s) if (200..300).contains(&s) => {
            return RetryDecision::Stop(StopReason::Success);
        }
        AttemptOutcome::Status(409) => report.earlier_unanswered,
        AttemptOutcome::Status(s) => retryable_status(s),
        AttemptOutcome::ConnectionError | AttemptOutcome::Timeout => true,
    };
    if !retry {
        return RetryDecision::Stop(StopReason::NotRetryable);
    }
    let n = report.attempt.max(1);
    if n >= options.max_attempts.max(1) {
        return RetryDecision::Stop(StopReason::AttemptsExhausted);
    }
    let mut delay = backoff_ms(n, options, report.random);
    if let AttemptOutcome::Status(_) = report.outcome
        && let Some(asked) = report
            .retry_after
            .and_then(|v| retry_after_ms(v, report.now_unix_ms))
    {
        delay = delay.max(asked);
    }
    RetryDecision::RetryInMs(delay.min(options.max_delay_ms))
}

/// `base * 2^(n-1)` capped at `max_delay`, then from its half to all of it
/// (`random / 2^32` of the way).
fn backoff_ms(n: u32, o: &RetryOptions, random: u32) -> u64 {
    let doubling = 1u64.checked_shl(n - 1).unwrap_or(u64::MAX);
    let ceiling = o.base_delay_ms.saturating_mul(doubling).min(o.max_delay_ms);
    let half = ceiling / 2;
    let spread = (u128::from(half) * u128::from(random)) >> 32;
    // spread < half, so this never exceeds the ceiling.
    ceiling - half + spread as u64
}

/// A `Retry-After` value in milliseconds from `now_unix_ms`: delay-seconds,
/// or an HTTP date (0 when it is past). `None` when it is neither, so the
/// backoff alone applies.
pub fn retry_after_ms(value: &str, now_unix_ms: u64) -> Option<u64> {
    let v = value.trim_matches([' ', '\t']);
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // A number too large for u64 is as good as "never": saturate.
        let secs = v.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return Some(secs.saturating_mul(1000));
    }
    let at = http_date(v, now_unix_ms)?;
    // A date before 1970 is past as well.
    let at_ms = u64::try_from(at).unwrap_or(0).saturating_mul(1000);
    Some(at_ms.saturating_sub(now_unix_ms))
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP date (RFC 9110 section 5.6.7) in seconds since the Unix epoch:
/// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), `Sunday, 06-Nov-94
/// 08:49:37 GMT` (RFC 850; a two-digit year more than 50 years ahead of
/// `now` is the century before) or `Sun Nov  6 08:49:37 1994` (asctime).
/// Names are case-sensitive, as the grammar has them. The day name is not
/// checked against the date: recipients of a date take the date.
pub fn http_date(v: &str, now_unix_ms: u64) -> Option<i64> {
    let (day, month, year, time) = if let Some(rest) = strip_day(v, &DAYS, ", ") {
        // IMF-fixdate: `06 Nov 1994 08:49:37 GMT`
        let r = rest.as_bytes();
        if r.len() != 24 || r[2] != b' ' || r[6] != b' ' || r[11] != b' ' || &r[20..] != b" GMT" {
            return None;
        }
        (
            digits(&r[0..2])?,
            month(&r[3..6])?,
            digits(&r[7..11])?,
            &r[12..20],
        )
    } else if let Some(rest) = strip_day(v, &LONG_DAYS, ", ") {
        // RFC 850: `06-Nov-94 08:49:37 GMT`
        let r = rest.as_bytes();
        if r.len() != 22 || r[2] != b'-' || r[6] != b'-' || r[9] != b' ' || &r[18..] != b" GMT" {
            return None;
        }
        let yy = digits(&r[7..9])?;
        let this_year = civil_year(now_unix_ms / 1000);
        let mut year = this_year - this_year % 100 + yy;
        if year > this_year + 50 {
            year -= 100;
        }
        (digits(&r[0..2])?, month(&r[3..6])?, year, &r[10..18])
    } else if let Some(rest) = strip_day(v, &DAYS, " ") {
        // asctime: `Nov  6 08:49:37 1994`
        let r = rest.as_bytes();
        if r.len() != 20 || r[3] != b' ' || r[6] != b' ' || r[15] != b' ' {
            return None;
        }
        let day = match r[4] {
            b' ' => digits(&r[5..6])?,
            _ => digits(&r[4..6])?,
        };
        (day, month(&r[0..3])?, digits(&r[16..20])?, &r[7..15])
    } else {
        return None;
    };
    if time[2] != b':' || time[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    // 60: a leap second, as the grammar allows.
    if h > 23 || m > 59 || s > 60 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3_600 + m * 60 + s)
}

/// `v` without a leading `<one of names><sep>`.
fn strip_day<'a>(v: &'a str, names: &[&str], sep: &str) -> Option<&'a str> {
    names
        .iter()
        .find_map(|d| v.strip_prefix(d).and_then(|r| r.strip_prefix(sep)))
}

/// ASCII digits as a number (`None` for anything else, or none at all).
fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |acc, &d| acc * 10 + i64::from(d - b'0')))
}

/// `Jan` is 1.
fn month(b: &[u8]) -> Option<i64> {
    let i = MONTHS.iter().position(|m| m.as_bytes() == b)?;
    Some(i as i64 + 1)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given (proleptic Gregorian) date; Howard
/// Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (Gregorian, UTC) year of a Unix time in seconds.
fn civil_year(secs: u64) -> i64 {
    // Hinnant's `civil_from_days`, year only.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_date_forms_of_rfc_9110() {
        // RFC 9110's own example, 1994-11-06T08:49:37Z.
        let t = 784_111_777;
        let now = 1_700_000_000_000;
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(t));
        assert_eq!(http_date("Sunday, 06-Nov-94 08:49:37 GMT", now), Some(t));
        assert_eq!(http_date("Sun Nov  6 08:49:37 1994", now), Some(t));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(0));
        assert!(http_date("Tue, 29 Feb 2028 23:59:60 GMT", now).is_some());
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Mon, 29 Feb 2027 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun Nov 6 08:49:37 1994",
            "",
        ] {
            assert_eq!(http_date(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn civil_year_at_the_edges() {
        assert_eq!(civil_year(0), 1970);
        assert_eq!(civil_year(946_684_799), 1999);
        assert_eq!(civil_year(946_684_800), 2000);
        assert_eq!(civil_year(951_782_400), 2000); // 2000-02-29
    }
}
