//! Normalisation as the CLI does it when it loads its config (contract section 2).
//!
//! "White space" here is Python's, not Rust's: `str.strip()` also removes
//! U+001C..U+001F, which `char::is_whitespace` keeps.

/// Python's `str.isspace()` for one character: exactly these 29 code points.
pub fn is_py_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{09}'..='\u{0D}'
            | '\u{1C}'..='\u{20}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_whitespace)
}

/// True when `s` is empty or only Python white space.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_py_whitespace)
}

/// Python 3.11's `str.lower()`: full lower-casing of Unicode 14.0 (the
/// CLI's lowest Python), so `İ` becomes `i̇` and a final sigma `ς`. Code
/// points unassigned in 14.0 are kept as they are, as 3.11 keeps them.
pub fn py_lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        crate::lowercase::to_lowercase(s)
    }
}

/// The first code point of `s` unassigned in Unicode 14.0, if any: a later
/// Python (Unicode 15.0 and up) may lower-case it, or a `Σ` beside it,
/// differently from the CLI's Python 3.11 (contract section 2).
pub fn first_unassigned(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| !c.is_ascii() && crate::lowercase::is_unassigned(c))
}

/// The CLI's `normalize_provider`: strip, lower-case as [`py_lower`], then
/// the aliases `azure` and `azure-devops` become `azure_devops`. (A
/// provider holding a code point unassigned in Unicode 14.0 is refused by
/// the request builder, see [`first_unassigned`].)
pub fn normalize_provider(provider: &str) -> String {
    let lower = py_lower(py_strip(provider));
    match lower.as_str() {
        "azure" | "azure-devops" => "azure_devops".to_owned(),
        _ => lower,
    }
}

/// The refusal of a provider holding `c`, unassigned in Unicode 14.0.
#[cold]
pub(crate) fn unassigned_provider(c: char) -> crate::PublishError {
    use crate::error::{Piece::*, msg};
    crate::PublishError::new(
        crate::ErrorKind::InvalidInput,
        msg(&[
            Str("provider: holds "),
            CodePoint(c as u32),
            Str(
                ", unassigned in Unicode 14.0: the CLI on Python 3.11 keeps it, a later Python may lower-case it, so the CLI's bytes would depend on its Python",
            ),
        ]),
    )
}

/// The doctrine mode as published: stripped, or `external_authoritative`
/// when missing or blank.
pub fn doctrine_mode(mode: Option<&str>) -> &str {
    match mode.map(py_strip) {
        Some(m) if !m.is_empty() => m,
        _ => "external_authoritative",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_29_white_space_code_points() {
        let all: Vec<char> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| is_py_whitespace(c))
            .collect();
        assert_eq!(all.len(), 29);
        // U+001C..U+001F are Python white space but not Rust's.
        for c in ['\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}'] {
            assert!(is_py_whitespace(c) && !c.is_whitespace());
        }
        // Zero-width space and BOM are neither.
        assert!(!is_py_whitespace('\u{200B}') && !is_py_whitespace('\u{FEFF}'));
    }
}
