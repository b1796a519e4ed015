//! One error type: a kind for programs, a message for people.

use core::fmt;

/// What kind of refusal this is (contract section 7): the WIT enum
/// `error-kind`, variant for variant, less the four kinds only a host that
/// reads a project's files raises (`invalid-config`, `invalid-credentials`,
/// `store-missing`, `invalid-store`: the wasmtime host's `ErrorKind`).
/// `tests/error_kinds.rs` checks it and every host's copy; README "Error
/// kinds" says who raises which.
///
/// The kebab-case names from [`ErrorKind::as_str`] are the wire names every
/// host prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Provider or workspace blank.
    NotConfigured,
    /// Server URL not http(s), without a host, or with user-info.
    InvalidServerUrl,
    /// The resolved token has a character outside U+0021-U+007E.
    InvalidAuthToken,
    /// The input is not well-formed.
    InvalidInput,
    /// The input exceeds a documented limit.
    TooLarge,
    /// One stored issue cannot be published faithfully.
    InvalidStoreRow,
}

impl ErrorKind {
    /// Every kind, in contract order.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::NotConfigured,
        ErrorKind::InvalidServerUrl,
        ErrorKind::InvalidAuthToken,
        ErrorKind::InvalidInput,
        ErrorKind::TooLarge,
        ErrorKind::InvalidStoreRow,
    ];

    /// The kebab-case wire name, e.g. `invalid-server-url`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotConfigured => "not-configured",
            ErrorKind::InvalidServerUrl => "invalid-server-url",
            ErrorKind::InvalidAuthToken => "invalid-auth-token",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::InvalidStoreRow => "invalid-store-row",
        }
    }

    /// The kind with this wire name.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request.
///
/// The message names the field at fault and never holds a token or a
/// credential value: every constructor in this crate builds it from field
/// names and fixed text only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishError {
    kind: ErrorKind,
    message: String,
}

impl PublishError {
    /// A refusal of `kind` with a message for people.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PublishError {
            kind,
            message: message.into(),
        }
    }

    /// `invalid-input` at a field path: `"{path}: {what}"`.
    #[cold]
    #[inline(never)]
    pub(crate) fn invalid_input(path: &str, what: &str) -> Self {
        let path = if path.is_empty() { "input" } else { path };
        PublishError::new(
            ErrorKind::InvalidInput,
            msg(&[Str(path), Str(": "), Str(what)]),
        )
    }

    /// What kind of refusal this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A piece of a message. Messages are built from pieces by [`msg`] rather
/// than with `format!`, which keeps `core::fmt` out of the WebAssembly guest.
#[derive(Clone, Copy)]
pub(crate) enum Piece<'a> {
    /// Text as it is.
    Str(&'a str),
    /// A number in decimal.
    Num(usize),
    /// Text in double quotes as Rust's `{:?}` writes it, for every printable,
    /// white-space and control character: `\"`, `\\`, `\t`, `\r`, `\n`, `\0`,
    /// other controls and white space as `\u{a0}`. Other characters Rust
    /// escapes (unassigned, private use, combining marks) are kept as they are.
    Debug(&'a str),
    /// Text in double quotes, `"` and `\` escaped with `\`, control
    /// characters as `\u001f` (the JSON reader's field paths).
    Quoted(&'a str),
    /// A code point as Unicode writes it: `U+00E9`, `U+1F642`.
    CodePoint(u32),
}

use Piece::{CodePoint, Debug, Num, Quoted, Str};

/// The pieces, joined.
pub(crate) fn msg(pieces: &[Piece<'_>]) -> String {
    let mut s = String::new();
    for &p in pieces {
        push(&mut s, p);
    }
    s
}

/// Appends one piece.
#[inline(never)]
pub(crate) fn push(s: &mut String, piece: Piece<'_>) {
    match piece {
        Str(t) => s.push_str(t),
        Num(n) => {
            let mut digits = [0u8; 20];
            let mut i = digits.len();
            let mut v = n;
            while i > 0 {
                i -= 1;
                digits[i] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            for &d in digits.get(i..).unwrap_or_default() {
                s.push(char::from(d));
            }
        }
        CodePoint(n) => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            s.push_str("U+");
            let digits = if n > 0xFFFF {
                (32 - n.leading_zeros()).div_ceil(4)
            } else {
                4
            };
            for i in (0..digits).rev() {
                s.push(char::from(HEX[(n >> (i * 4) & 0xF) as usize]));
            }
        }
        Debug(t) | Quoted(t) => {
            let debug = matches!(piece, Debug(_));
            s.push('"');
            for c in t.chars() {
                let escape = match c {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\t' if debug => "\\t",
                    '\r' if debug => "\\r",
                    '\n' if debug => "\\n",
                    '\0' if debug => "\\0",
                    c if c.is_control() || (debug && c.is_whitespace() && c != ' ') => {
                        push_code_point(s, c as u32, debug);
                        continue;
                    }
                    c => {
                        s.push(c);
                        continue;
                    }
                };
                s.push_str(escape);
            }
            s.push('"');
        }
    }
}

/// `\u{a0}` (Rust's `{:?}`) or `\u00a0`, for a code point below U+10000.
fn push_code_point(s: &mut String, n: u32, debug: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    s.push_str(if debug { "\\u{" } else { "\\u" });
    for shift in [12, 8, 4, 0] {
        if !debug || n >> shift != 0 || shift == 0 {
            s.push(char::from(HEX[(n >> shift & 0xF) as usize]));
        }
    }
    if debug {
        s.push('}');
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PublishError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_display_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 4_194_304, usize::MAX] {
            assert_eq!(msg(&[Num(n)]), n.to_string());
        }
    }

    #[test]
    fn code_points_as_unicode_writes_them() {
        for (n, want) in [
            (0, "U+0000"),
            (0xE9, "U+00E9"),
            (0xA7CB, "U+A7CB"),
            (0x1F642, "U+1F642"),
            (0x10FFFF, "U+10FFFF"),
        ] {
            assert_eq!(msg(&[CodePoint(n)]), want);
        }
    }

    #[test]
    fn quoted_escapes_quotes_and_controls_json_style() {
        assert_eq!(
            msg(&[Quoted("a\"b\\c\n\u{1f}\u{7f}\u{9f}é")]),
            "\"a\\\"b\\\\c\\u000a\\u001f\\u007f\\u009fé\""
        );
    }

    #[test]
    fn debug_as_rust_writes_printable_space_and_control_characters() {
        // Latin-1 but U+00AD (soft hyphen, escaped by Rust as not printable),
        // and all white space.
        let mut keys: Vec<String> = (0u32..0x100)
            .chain(0x2000..0x3001)
            .filter_map(char::from_u32)
            .filter(|&c| c != '\u{ad}' && (c < '\u{100}' || c.is_whitespace()))
            .map(String::from)
            .collect();
        keys.extend(["", "project_key", "a\"b\\c'd", "é漢🙂", "\u{85}x\u{3000}"].map(String::from));
        for k in keys {
            assert_eq!(msg(&[Debug(&k)]), format!("{k:?}"), "{k:?}");
        }
    }
}
