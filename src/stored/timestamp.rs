//! Stored timestamps as the CLI re-writes them: Python 3.11's
//! `datetime.fromisoformat(s).isoformat()`, or null where Python refuses.
//!
//! A port of CPython 3.11's C parser (`_datetimemodule.c`), quirks included:
//! it reads the UTF-8 bytes as a C string, so a NUL ends the text in some
//! places; the date/time separator may be any one character; a fraction may
//! have any number of digits (six are kept). `tests/stored.rs` compares it
//! with Python on many thousands of strings.

/// The UTF-8 bytes with C's terminating NUL: reads past the end give 0.
struct CStr<'a>(&'a [u8]);

impl CStr<'_> {
    fn at(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// `parse_digits`: `n` ASCII digits from `*p`, advancing it.
    fn digits(&self, p: &mut usize, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for _ in 0..n {
            let d = self.at(*p).wrapping_sub(b'0');
            *p += 1;
            if d > 9 {
                return None;
            }
            v = v * 10 + i64::from(d);
        }
        Some(v)
    }
}

/// A parsed datetime: fields as Python holds them, offset in microseconds.
#[derive(Debug, PartialEq, Eq)]
struct DateTime {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
    offset_us: Option<i64>,
}

/// `datetime.fromisoformat(text).isoformat()`, or `None` where Python raises.
pub fn python_isoformat(text: &str) -> Option<String> {
    parse(text).map(|dt| format(&dt))
}

fn parse(text: &str) -> Option<DateTime> {
    // `_sanitize_isoformat_str`: fewer than 7 code points is invalid.
    text.chars().nth(6)?;
    let s = CStr(text.as_bytes());
    let len = text.len();
    let sep = separator_location(&s, len)?;
    let (year, month, day) = parse_date(&s, sep)?;
    let mut dt = DateTime {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        micro: 0,
        offset_us: None,
    };
    if len > sep {
        // Skip the separator: one UTF-8 character, sized by its first byte.
        let lead = s.at(sep);
        let width = if lead & 0x80 == 0 {
            1
        } else {
            match lead & 0xF0 {
                0xE0 => 3,
                0xF0 => 4,
                _ => 2,
            }
        };
        let p = sep + width;
        let tlen = len.checked_sub(p)?;
        parse_time(&s, p, tlen, &mut dt)?;
    }
    valid(&dt).then_some(dt)
}

/// `_find_isoformat_datetime_separator`.
fn separator_location(s: &CStr, len: usize) -> Option<usize> {
    let is_digit = |i: usize| s.at(i).is_ascii_digit();
    if len == 7 {
        return Some(7);
    }
    if s.at(4) == b'-' {
        if s.at(5) == b'W' {
            if len < 8 {
                return None;
            }
            if len > 8 && s.at(8) == b'-' {
                if len == 9 {
                    return None;
                }
                if len > 10 && is_digit(10) {
                    return Some(8);
                }
                return Some(10);
            }
            return Some(8);
        }
        return Some(10);
    }
    if s.at(4) == b'W' {
        let mut idx = 7;
        while idx < len && is_digit(idx) {
            idx += 1;
        }
        if idx < 9 {
            return Some(idx);
        }
        return Some(if idx % 2 == 0 { 7 } else { 8 });
    }
    Some(8)
}

/// `parse_isoformat_date` over the first `len` bytes.
fn parse_date(s: &CStr, len: usize) -> Option<(i64, i64, i64)> {
    let mut p = 0;
    let year = s.digits(&mut p, 4)?;
    let dash = s.at(p) == b'-';
    if dash {
        p += 1;
    }
    if s.at(p) == b'W' {
        p += 1;
        let week = s.digits(&mut p, 2)?;
        let weekday = if p < len {
            if dash {
                let c = s.at(p);
                p += 1;
                if c != b'-' {
                    return None;
                }
            }
            s.digits(&mut p, 1)?
        } else {
            1
        };
        return iso_to_ymd(year, week, weekday);
    }
    let month = s.digits(&mut p, 2)?;
    if dash {
        let c = s.at(p);
        p += 1;
        if c != b'-' {
            return None;
        }
    }
    let day = s.digits(&mut p, 2)?;
    Some((year, month, day))
}

/// `parse_hh_mm_ss_ff` over `[p, end)`: `Some(trailing)` where `trailing`
/// says text is left before the NUL (C's return 1), `None` on failure.
fn hh_mm_ss_ff(s: &CStr, mut p: usize, end: usize, out: &mut [i64; 4]) -> Option<bool> {
    *out = [0; 4];
    let mut has_sep = true;
    for (i, slot) in out.iter_mut().take(3).enumerate() {
        *slot = s.digits(&mut p, 2)?;
        let c = s.at(p);
        p += 1;
        if i == 0 {
            has_sep = c == b':';
        }
        if p >= end {
            return Some(c != 0);
        } else if has_sep && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            break;
        } else if !has_sep {
            p -= 1;
        } else {
            return None;
        }
    }
    let remains = end.saturating_sub(p);
    let to_parse = remains.min(6);
    let mut us = s.digits(&mut p, to_parse)?;
    if (1..6).contains(&to_parse) {
        us *= [100_000, 10_000, 1_000, 100, 10][to_parse - 1];
    }
    out[3] = us;
    while s.at(p).is_ascii_digit() {
        p += 1;
    }
    Some(s.at(p) != 0)
}

/// `parse_isoformat_time` from byte `p`, `len` bytes.
fn parse_time(s: &CStr, p: usize, len: usize, dt: &mut DateTime) -> Option<()> {
    let end = p + len;
    let mut tz = p;
    loop {
        if matches!(s.at(tz), b'Z' | b'+' | b'-') {
            break;
        }
        tz += 1;
        if tz >= end {
            break;
        }
    }
    let mut t = [0i64; 4];
    let trailing = hh_mm_ss_ff(s, p, tz, &mut t)?;
    [dt.hour, dt.minute, dt.second, dt.micro] = t;
    if tz == end {
        return (!trailing).then_some(());
    }
    if s.at(tz) == b'Z' {
        dt.offset_us = Some(0);
        return (s.at(tz + 1) == 0).then_some(());
    }
    let sign = if s.at(tz) == b'-' { -1 } else { 1 };
    let mut o = [0i64; 4];
    let trailing = hh_mm_ss_ff(s, tz + 1, end, &mut o)?;
    if trailing {
        return None;
    }
    let seconds = o[0] * 3600 + o[1] * 60 + o[2];
    // `tzinfo_from_isoformat_results`: whole seconds must be under a day.
    if seconds >= 86_400 {
        return None;
    }
    // Whole seconds of zero is UTC, whatever the fraction (C's shortcut).
    dt.offset_us = Some(if seconds == 0 {
        0
    } else {
        sign * (seconds * 1_000_000 + o[3])
    });
    Some(())
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days before January 1st of `y` (proleptic Gregorian, year 1 = day 0).
fn days_before_year(y: i64) -> i64 {
    let y = y - 1;
    y * 365 + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
}

/// `ymd_to_ord`: 0001-01-01 is 1.
fn ymd_to_ord(y: i64, m: i64, d: i64) -> i64 {
    let before_month: i64 = (1..m).map(|mm| days_in_month(y, mm)).sum();
    days_before_year(y) + before_month + d
}

/// `ord_to_ymd`, for any ordinal (a date out of range fails the year check later).
fn ord_to_ymd(ord: i64) -> (i64, i64, i64) {
    let n = ord - 1;
    let n400 = n.div_euclid(146_097);
    let mut n = n.rem_euclid(146_097);
    let n100 = n / 36_524;
    n %= 36_524;
    let n4 = n / 1_461;
    n %= 1_461;
    let n1 = n / 365;
    n %= 365;
    let mut year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;
    if n1 == 4 || n100 == 4 {
        year -= 1;
        return (year, 12, 31);
    }
    let mut month = 1;
    let mut day = n + 1;
    while day > days_in_month(year, month) {
        day -= days_in_month(year, month);
        month += 1;
    }
    (year, month, day)
}

/// `iso_to_ymd`: ISO year, week and weekday to a calendar date.
fn iso_to_ymd(year: i64, week: i64, weekday: i64) -> Option<(i64, i64, i64)> {
    if !(1..=52).contains(&week) {
        // 53 weeks in years starting on a Thursday, and leap years starting
        // on a Wednesday.
        let first = (ymd_to_ord(year, 1, 1) + 6) % 7;
        if !(week == 53 && (first == 3 || (first == 2 && is_leap(year)))) {
            return None;
        }
    }
    if !(1..=7).contains(&weekday) {
        return None;
    }
    // `iso_week1_monday`
    let first_day = ymd_to_ord(year, 1, 1);
    let first_weekday = (first_day + 6) % 7;
    let mut monday = first_day - first_weekday;
    if first_weekday > 3 {
        monday += 7;
    }
    Some(ord_to_ymd(monday + (week - 1) * 7 + weekday - 1))
}

/// What `datetime(...)` checks.
fn valid(dt: &DateTime) -> bool {
    (1..=9999).contains(&dt.year)
        && (1..=12).contains(&dt.month)
        && dt.day >= 1
        && dt.day <= days_in_month(dt.year, dt.month)
        && (0..24).contains(&dt.hour)
        && (0..60).contains(&dt.minute)
        && (0..60).contains(&dt.second)
        && (0..1_000_000).contains(&dt.micro)
}

fn pad(s: &mut String, v: i64, width: usize) {
    let digits = v.unsigned_abs();
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = digits;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        s.push('0');
    }
    for &b in &buf[i..] {
        s.push(char::from(b));
    }
}

/// `datetime.isoformat()`.
fn format(dt: &DateTime) -> String {
    let mut s = String::with_capacity(32);
    pad(&mut s, dt.year, 4);
    s.push('-');
    pad(&mut s, dt.month, 2);
    s.push('-');
    pad(&mut s, dt.day, 2);
    s.push('T');
    pad(&mut s, dt.hour, 2);
    s.push(':');
    pad(&mut s, dt.minute, 2);
    s.push(':');
    pad(&mut s, dt.second, 2);
    if dt.micro != 0 {
        s.push('.');
        pad(&mut s, dt.micro, 6);
    }
    if let Some(off) = dt.offset_us {
        s.push(if off < 0 { '-' } else { '+' });
        let off = off.abs();
        let (secs, us) = (off / 1_000_000, off % 1_000_000);
        pad(&mut s, secs / 3600, 2);
        s.push(':');
        pad(&mut s, secs / 60 % 60, 2);
        if secs % 60 != 0 || us != 0 {
            s.push(':');
            pad(&mut s, secs % 60, 2);
            if us != 0 {
                s.push('.');
                pad(&mut s, us, 6);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::python_isoformat as iso;

    #[test]
    fn the_forms_project_state_names() {
        assert_eq!(
            iso("2026-03-10T08:30:00Z").as_deref(),
            Some("2026-03-10T08:30:00+00:00")
        );
        assert_eq!(iso("2026-03-10").as_deref(), Some("2026-03-10T00:00:00"));
        assert_eq!(
            iso("2026-03-10T08:30:00.5").as_deref(),
            Some("2026-03-10T08:30:00.500000")
        );
        assert_eq!(
            iso("2026-03-10T08:30:00.000000").as_deref(),
            Some("2026-03-10T08:30:00")
        );
        assert_eq!(iso("2026-W10-2").as_deref(), Some("2026-03-03T00:00:00"));
        assert_eq!(
            iso("2026-03-10T08:30:00-00:00").as_deref(),
            Some("2026-03-10T08:30:00+00:00")
        );
        assert_eq!(iso("2026-03-10T08:30:00z"), None);
        assert_eq!(iso("not a date"), None);
    }
}
