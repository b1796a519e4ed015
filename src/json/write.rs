//! JSON as the CLI writes it: `json.dumps(ensure_ascii=False, separators=(",", ":"))`.
//!
//! Non-ASCII is written as raw UTF-8; only `"`, `\` and U+0000..U+001F are
//! escaped (`\b \f \n \r \t` short, the rest `\u00xx` in lower-case hex);
//! `/` and U+007F are not.

/// True for a byte that must be escaped inside a JSON string.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Eight bytes at a time: true when any byte of the word is `< 0x20`, `"` or `\`.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    // Bytes < 0x20: subtracting 0x20 borrows into the high bit; masked by !w
    // so that bytes >= 0x80 (UTF-8) do not count.
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    control | has_zero(w ^ (LO * b'"' as u64)) | has_zero(w ^ (LO * b'\\' as u64)) != 0
}

/// The first index at or after `i` whose eight-byte word holds a byte that
/// may need escaping (or where fewer than eight bytes remain): clean runs of
/// text are skipped a word at a time. Shared by the writer and the reader,
/// which look for the same three kinds of byte.
#[inline]
pub(crate) fn skip_clean_words(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        i += 8;
    }
    i
}

/// Appends `s` as a JSON string, quotes included.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        i = skip_clean_words(bytes, i);
        let Some(&b) = bytes.get(i) else { break };
        if needs_escape(b) {
            // `get`, not indexing: no panic path in the guest (`start <= i`).
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            write_escape(out, b);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xF) as usize],
        ]),
    }
}

/// Appends `s` as a JSON string, or `null`.
pub fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an integer in decimal, as Python writes it.
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        i -= 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_control_character_is_escaped_as_python_does() {
        for b in 0u8..0x20 {
            let expect = match b {
                0x08 => "\"\\b\"".to_string(),
                0x09 => "\"\\t\"".to_string(),
                0x0A => "\"\\n\"".to_string(),
                0x0C => "\"\\f\"".to_string(),
                0x0D => "\"\\r\"".to_string(),
                _ => format!("\"\\u{b:04x}\""),
            };
            assert_eq!(enc(&(b as char).to_string()), expect, "byte {b:#x}");
        }
        assert_eq!(enc("\u{7f}/é漢🙂"), "\"\u{7f}/é漢🙂\"");
        assert_eq!(enc("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn word_scan_agrees_with_byte_scan_at_every_offset() {
        let specials = ['"', '\\', '\u{0}', '\u{1f}', '\n'];
        for &c in &specials {
            for pos in 0..20 {
                let mut s: String = "abcdéfghijklmnopqrstu".chars().take(19).collect();
                s.insert(s.char_indices().nth(pos).map_or(s.len(), |(i, _)| i), c);
                let slow: String = s
                    .chars()
                    .map(|ch| {
                        if ch == c {
                            let e = enc(&c.to_string());
                            e[1..e.len() - 1].to_string()
                        } else {
                            ch.to_string()
                        }
                    })
                    .collect();
                assert_eq!(enc(&s), format!("\"{slow}\""));
            }
        }
    }

    #[test]
    fn integers() {
        for n in [0, 7, -1, 42, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_i64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
