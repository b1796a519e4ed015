//! Python 3.11's `str.lower` (Unicode 14.0), with small tables.
//!
//! The CLI lower-cases the provider on its lowest Python, 3.11, so the
//! lower-casing here is Unicode 14.0's, not that of Rust's std (a later
//! Unicode, whose tables would also bring about 25 KB into the guest). The
//! tables (`lowercase_tables.rs`) are printed by `tools/gen_lowercase.py`
//! from Python 3.11 itself, and take about 6 KB as runs:
//!
//! * [`LOWER`]: every character whose lower case is one other character, as
//!   runs of equal offset. The one character that lower-cases to two
//!   (`İ` U+0130 to `i̇`) is written out in [`to_lowercase`].
//! * [`CLASS`]: the `Cased` and `Case_Ignorable` classes, which decide
//!   whether `Σ` ends a word (`ς`) or not (`σ`), as run lengths.
//! * [`UNASSIGNED`]: the code points unassigned in Unicode 14.0, as run
//!   lengths: a later Python may lower-case those (or a `Σ` beside one)
//!   differently, so a provider holding one is refused (contract section 2).
//!
//! `tests/unicode.rs` checks the file is what the script prints, and every
//! code point, alone and around a `Σ`, against Python 3.11's `str.lower`.

/// Python 3.11's `s.lower()`.
pub(crate) fn to_lowercase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            'Σ' => out.push(if is_word_final(s, i) { 'ς' } else { 'σ' }),
            '\u{130}' => out.push_str("i\u{307}"),
            c => out.push(lower(c)),
        }
    }
    out
}

/// Unicode's `Final_Sigma` for the `Σ` at byte `i` of `s`: a cased letter
/// before it and none after it, skipping case-ignorable characters.
fn is_word_final(s: &str, i: usize) -> bool {
    let before = s.get(..i).unwrap_or_default();
    let after = s.get(i + 'Σ'.len_utf8()..).unwrap_or_default();
    case_ignorable_then_cased(before.chars().rev()) && !case_ignorable_then_cased(after.chars())
}

fn case_ignorable_then_cased(mut chars: impl Iterator<Item = char>) -> bool {
    chars
        .find(|&c| class(c) != Class::CaseIgnorable)
        .is_some_and(|c| class(c) == Class::Cased)
}

/// The lower case of a character that does not lower-case to two.
fn lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let cp = c as u32;
    let at = LOWER.partition_point(|&(key, _)| key & 0x1F_FFFF <= cp);
    let Some(&(key, delta)) = at.checked_sub(1).and_then(|at| LOWER.get(at)) else {
        return c;
    };
    let (start, len, stride) = (key & 0x1F_FFFF, key >> 21 & 0x7F, (key >> 28) + 1);
    let offset = cp - start;
    if offset >= len * stride || !offset.is_multiple_of(stride) {
        return c;
    }
    char::from_u32(cp.wrapping_add_signed(delta)).unwrap_or(c)
}

/// A run of `len` characters from `start`, every `stride`-th one mapped to
/// itself plus `delta`.
const fn run(start: u32, len: u32, stride: u32, delta: i32) -> (u32, i32) {
    (start | len << 21 | (stride - 1) << 28, delta)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Other,
    /// `Cased` and not `Case_Ignorable`.
    Cased,
    /// `Case_Ignorable` (some of these are also `Cased`).
    CaseIgnorable,
}

/// The class of a character, from [`CLASS`] through [`CLASS_INDEX`].
fn class(c: char) -> Class {
    let cp = c as u32;
    // The last index entry at or below `cp`, then the runs from there.
    let block = CLASS_INDEX
        .partition_point(|&start| start <= cp)
        .saturating_sub(1);
    let mut start = CLASS_INDEX.get(block).copied().unwrap_or_default();
    for &run in CLASS.get(block * INDEX_STEP..).unwrap_or_default() {
        let end = start + u32::from(run & 0x3FFF);
        if cp < end {
            return match run >> 14 {
                1 => Class::Cased,
                2 => Class::CaseIgnorable,
                _ => Class::Other,
            };
        }
        start = end;
    }
    Class::Other
}

const fn other(n: u16) -> u16 {
    n
}
const fn cased(n: u16) -> u16 {
    1 << 14 | n
}
const fn ignorable(n: u16) -> u16 {
    2 << 14 | n
}

/// Runs per [`CLASS_INDEX`] entry.
const INDEX_STEP: usize = 32;

/// Where every [`INDEX_STEP`]-th run of [`CLASS`] starts, computed at compile time.
const CLASS_INDEX: [u32; CLASS.len().div_ceil(INDEX_STEP)] = {
    let mut index = [0; CLASS.len().div_ceil(INDEX_STEP)];
    let (mut i, mut start) = (0, 0);
    while i < CLASS.len() {
        if i % INDEX_STEP == 0 {
            index[i / INDEX_STEP] = start;
        }
        start += (CLASS[i] & 0x3FFF) as u32;
        i += 1;
    }
    index
};

/// True when `c` is unassigned in Unicode 14.0 (general category `Cn`).
pub(crate) fn is_unassigned(c: char) -> bool {
    let cp = c as u32;
    let block = UNASSIGNED_INDEX
        .partition_point(|&(start, _)| start <= cp)
        .saturating_sub(1);
    let (mut start, mut at) = UNASSIGNED_INDEX.get(block).copied().unwrap_or_default();
    let mut run = block * INDEX_STEP;
    while let Some((len, next)) = run_length(at) {
        let end = start + len;
        if cp < end {
            // Runs alternate from U+0000: assigned, unassigned, ...
            return run % 2 == 1;
        }
        (start, at, run) = (end, next, run + 1);
    }
    false
}

/// The run length at byte `at` of [`UNASSIGNED`], and where the next starts.
const fn run_length(at: usize) -> Option<(u32, usize)> {
    if at >= UNASSIGNED.len() {
        return None;
    }
    let b = UNASSIGNED[at] as u32;
    if b < 0x80 {
        return Some((b, at + 1));
    }
    if at + 1 >= UNASSIGNED.len() {
        return None;
    }
    Some(((b & 0x7F) << 8 | UNASSIGNED[at + 1] as u32, at + 2))
}

/// The number of runs in [`UNASSIGNED`].
const UNASSIGNED_RUNS: usize = {
    let (mut n, mut at) = (0, 0);
    while let Some((_, next)) = run_length(at) {
        (n, at) = (n + 1, next);
    }
    n
};

/// Where every [`INDEX_STEP`]-th run of [`UNASSIGNED`] starts: its code
/// point and its byte.
const UNASSIGNED_INDEX: [(u32, usize); UNASSIGNED_RUNS.div_ceil(INDEX_STEP)] = {
    let mut index = [(0, 0); UNASSIGNED_RUNS.div_ceil(INDEX_STEP)];
    let (mut i, mut start, mut at) = (0, 0, 0);
    while let Some((len, next)) = run_length(at) {
        if i % INDEX_STEP == 0 {
            index[i / INDEX_STEP] = (start, at);
        }
        (i, start, at) = (i + 1, start + len, next);
    }
    index
};

// ---- generated by `python3 tools/gen_lowercase.py` ---------------------------

include!("lowercase_tables.rs");

#[cfg(test)]
mod tests {
    use super::*;

    // Every code point against Python 3.11 itself: tests/unicode.rs.

    #[test]
    fn a_few_known_characters() {
        assert_eq!(to_lowercase("İΣΑΣ Σ"), "i\u{307}σας σ");
        // Lower-cased by Unicode 15.0 and later, not by 14.0: kept, and
        // (being unassigned in 14.0) refused in a provider.
        for c in ['\u{1C89}', '\u{A7CB}', '\u{10D50}', '\u{16EA0}'] {
            assert_eq!(to_lowercase(c.encode_utf8(&mut [0; 4])), c.to_string());
            assert!(is_unassigned(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'Σ', '\u{A7D0}', '\u{10FFFD}', '\u{D7FB}', '\u{E000}'] {
            assert!(!is_unassigned(c), "U+{:04X}", c as u32);
        }
        for c in [
            '\u{378}',
            '\u{FFFF}',
            '\u{10FFFF}',
            '\u{E0000}',
            '\u{50000}',
        ] {
            assert!(is_unassigned(c), "U+{:04X}", c as u32);
        }
    }
}
