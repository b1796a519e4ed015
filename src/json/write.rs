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

/// Eight bytes at a time: a mask with the high bit set in the lowest byte of
/// the word that is `< 0x20`, `"` or `\` (zero when there is none). Bits
/// above the lowest may be false hits (borrows run upwards), so only the
/// lowest set bit is used.
#[inline]
fn special_mask(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    // Bytes < 0x20: subtracting 0x20 borrows into the high bit; masked by !w
    // so that bytes >= 0x80 (UTF-8) do not count.
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    control | has_zero(w ^ (LO * b'"' as u64)) | has_zero(w ^ (LO * b'\\' as u64))
}

/// The index of the first byte at or after `i` that must be escaped (`< 0x20`,
/// `"` or `\`), or `bytes.len()` when there is none: clean text is skipped a
/// word at a time, and the byte found is exact, so callers never step over a
/// word byte by byte. Shared by the writer and the reader, which look for the
/// same three kinds of byte.
#[inline]
pub(crate) fn find_special(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mask = special_mask(u64::from_le_bytes(word));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if needs_escape(b) {
            return i;
        }
        i += 1;
    }
    i.min(bytes.len())
}

/// Appends `s` as a JSON string, quotes included.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        let i = find_special(bytes, start);
        // `get`, not indexing: no panic path in the guest (`start <= i`).
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        match bytes.get(i) {
            Some(&b) => write_escape(out, b),
            None => break,
        }
        start = i + 1;
    }
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
    fn find_special_is_exact_for_every_byte_mix() {
        // Bytes next to the three kinds (0x1f/0x20, '"'/'#', '\\'/']'),
        // UTF-8 lead and continuation bytes, and the extremes.
        const ALPHABET: [u8; 12] = [
            b'a', b' ', b'!', b'"', b'#', b'\\', b']', 0x00, 0x1f, 0x80, 0xc3, 0xff,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|k| ALPHABET[((seed >> (k * 2 % 60)) as usize + k) % ALPHABET.len()])
                .collect();
            for from in 0..=len {
                let want = (from..len).find(|&i| needs_escape(bytes[i])).unwrap_or(len);
                assert_eq!(find_special(&bytes, from), want, "{bytes:?} from {from}");
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
