//! A single-pass reader for the JSON form of the input, written for its schema.
//!
//! Strict RFC 8259, plus the rules of the input form: every field present
//! (except `doctrine_mode`, which the contract lets be missing), no unknown
//! field, no repeated key, no lone surrogate. The reader never recurses into
//! values it does not expect, so nesting is bounded by the schema, and strings
//! without escapes are borrowed from the source.

use std::borrow::Cow;

use crate::error::Piece::{Num, Quoted, Str};
use crate::error::{ErrorKind, PublishError, msg, push};
use crate::input::{Checkpoint, IssueRef, IssueSnapshot, MappingRow, Pairs, SnapshotInput, Text};
use crate::json::value::{Value, float_class};
use crate::json::write::find_special;
use crate::limits;
use crate::verify::SnapshotPayload;

type Result<T> = core::result::Result<T, PublishError>;

/// One step of a field path: `issues`, `[3]`, `credentials["x"]`.
#[derive(Clone, Debug)]
enum Seg<'a> {
    Key(Text<'a>),
    Index(usize),
}

/// Reads any JSON value (one stored issue row); errors are `invalid-input`
/// (or `too-large` for nesting) with the path inside the value.
pub(crate) fn read_value(src: &str) -> Result<Value<'_>> {
    let mut r = Reader {
        src,
        pos: 0,
        path: Vec::new(),
        ordered: false,
        verbatim: false,
    };
    let v = r.value(0)?;
    r.ws();
    if r.pos != r.src.len() {
        return Err(r.syntax("unexpected characters after the value"));
    }
    Ok(v)
}

/// Reads the JSON form of a snapshot input.
pub fn read_snapshot_input(src: &str) -> Result<SnapshotInput<'_>> {
    if src.len() > limits::MAX_INPUT_BYTES {
        return Err(input_too_large(src.len()));
    }
    read(src, false)
}

/// [`read_snapshot_input`] for writing the body straight away: an issue's
/// `title` or `body` whose escapes are all written as the body writes them
/// is left as it stands in `src`, escapes and all, instead of decoded, and
/// the body writer copies it unchanged (see [`is_verbatim`]). The input this
/// returns is only fit for that: such a title or body is not its value.
pub(crate) fn read_snapshot_input_verbatim(src: &str) -> Result<SnapshotInput<'_>> {
    read(src, true)
}

/// True when `s` lies inside `src`: a string the reader took from the source
/// as it stands, which is already in the body's form. Without escapes, the
/// reader only borrows strings that hold no character to escape; with them,
/// only in verbatim mode, and only escapes the writer would write itself.
#[inline]
pub(crate) fn is_verbatim(s: &str, src: &str) -> bool {
    let (p, b) = (s.as_ptr() as usize, src.as_ptr() as usize);
    p >= b && p + s.len() <= b + src.len()
}

fn read(src: &str, verbatim: bool) -> Result<SnapshotInput<'_>> {
    let mut r = Reader {
        src,
        pos: 0,
        path: Vec::with_capacity(8),
        ordered: false,
        verbatim,
    };
    let input = r.snapshot_input()?;
    r.ws();
    if r.pos != r.src.len() {
        return Err(r.syntax("unexpected characters after the input object"));
    }
    Ok(input)
}

/// Reads a `credentials` object alone (the framed routing entry point): a
/// JSON object of strings, in order, refused as the input form refuses it,
/// with paths under `credentials`.
pub fn read_credentials(src: &str) -> Result<Pairs<'_>> {
    if src.len() > limits::MAX_INPUT_BYTES {
        return Err(input_too_large(src.len()));
    }
    let mut r = Reader {
        src,
        pos: 0,
        path: vec![Seg::Key(Cow::Borrowed("credentials"))],
        ordered: false,
        verbatim: false,
    };
    let pairs = r.string_map()?;
    r.ws();
    if r.pos != r.src.len() {
        return Err(r.syntax("unexpected characters after the credentials object"));
    }
    Ok(pairs)
}

/// Reads a snapshot payload (a request body, contract section 4): exactly the
/// payload's fields, each record's fields in contract order, the checkpoint an
/// object. Only the shape and types are checked here; the rules of the values
/// (normalised provider, routing both-or-none) are [`crate::verify`]'s.
pub fn read_snapshot_payload(src: &str) -> Result<SnapshotPayload<'_>> {
    if src.len() > limits::MAX_INPUT_BYTES {
        return Err(input_too_large(src.len()));
    }
    let mut r = Reader {
        src,
        pos: 0,
        path: Vec::with_capacity(8),
        ordered: true,
        verbatim: false,
    };
    let payload = r.snapshot_payload()?;
    r.ws();
    if r.pos != r.src.len() {
        return Err(r.syntax("unexpected characters after the payload object"));
    }
    Ok(payload)
}

#[cold]
#[inline(never)]
fn input_too_large(len: usize) -> PublishError {
    PublishError::new(
        ErrorKind::TooLarge,
        msg(&[
            Str("input: "),
            Num(len),
            Str(" bytes is over the limit of "),
            Num(limits::MAX_INPUT_BYTES),
            Str(" bytes (MAX_INPUT_BYTES)"),
        ]),
    )
}

/// What a JSON value starts as, for "expected X, found Y" messages.
fn kind_name(b: Option<u8>) -> &'static str {
    match b {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "an invalid character",
        None => "the end of the input",
    }
}

/// Sets a field of the record being read, once; a second time is a
/// repeated key (refused before the value is read).
macro_rules! set {
    ($r:expr, $seen:ident, $bit:expr, $place:expr, $value:expr) => {{
        $r.once(&mut $seen, $bit, &NAMES)?;
        $place = $value;
    }};
}

/// The same, for a field that `$put` reads into its place.
macro_rules! put {
    ($r:expr, $seen:ident, $bit:expr, $put:expr) => {{
        $r.once(&mut $seen, $bit, &NAMES)?;
        $put?;
    }};
}

struct Reader<'a> {
    src: &'a str,
    pos: usize,
    path: Vec<Seg<'a>>,
    /// Fields must come in schema order (a payload, which a client writes in
    /// contract order), not in any order (the input form).
    ordered: bool,
    /// See [`read_snapshot_input_verbatim`].
    verbatim: bool,
}

// The reader's parts: `impl Reader` blocks, one concern each.
mod any;
mod input;
mod lexer;
mod payload;

/// True when a key can be shown as `.key` in a path.
fn is_ident(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PublishOptions, build_snapshot_payload, build_snapshot_payload_json};

    fn input(title: &str, body: &str) -> String {
        format!(
            r#"{{"server_url":"https://x.test","auth_token":null,"provider":"jira","workspace":"w",
            "doctrine_field_owners":{{}},"credentials":{{}},"project_uuid":null,"project_slug":null,
            "issues":[{{"ref":{{"system":"jira","workspace":"w","id":"1","key":null,"url":null}},
            "title":"{title}","body":"{body}","status":"todo","issue_type":"bug","priority":null,
            "assignees":["a\"b"],"labels":["\u00e9"],"updated_at":null}}],"mappings":[],"checkpoint":null}}"#
        )
    }

    /// The body from the JSON entry point (verbatim titles and bodies) is the
    /// body of the decoded input, for every way of writing an escape: the
    /// writer's own (copied) and every other (decoded and written again).
    #[test]
    fn verbatim_strings_give_the_same_body_as_decoded_ones() {
        let mut spellings: Vec<String> = vec![
            r#"\""#.into(),
            r"\\".into(),
            r"\/".into(),
            r"\u0041".into(),
            r"\u00e9".into(),
            r"\u00E9".into(),
            r"\ud83d\ude42".into(),
            r"\u2028".into(),
            "plain é 漢 🙂".into(),
            String::new(),
        ];
        for c in 0u8..0x20 {
            spellings.push(format!("\\u{:04x}", c));
            spellings.push(format!("\\u{:04X}", c));
        }
        for short in ["\\b", "\\f", "\\n", "\\r", "\\t"] {
            spellings.push(short.into());
        }
        let options = PublishOptions::default();
        for a in &spellings {
            for b in [&spellings[0], &spellings[2], &spellings[12], a] {
                let (title, body) = (
                    format!("x{a}y{b}"),
                    format!("{b}{a} long enough to span a word {a}"),
                );
                let text = input(&title, &body);
                let decoded = read_snapshot_input(&text).expect("valid input");
                let want = build_snapshot_payload(&decoded, &options).expect("builds");
                let got = build_snapshot_payload_json(&text, &options).expect("builds");
                assert_eq!(
                    String::from_utf8_lossy(&got.body),
                    String::from_utf8_lossy(&want.body),
                    "title {title:?} body {body:?}"
                );
            }
        }
    }

    /// A bad string in a title or body is refused as before: the verbatim scan
    /// gives up and the ordinary reader reports it.
    #[test]
    fn bad_strings_are_refused_with_the_same_message() {
        for bad in [r"\x", r"\u00", r"\ud800", "\u{1}", r"\u00G0"] {
            let text = input("ok", bad);
            let e = build_snapshot_payload_json(&text, &PublishOptions::default()).unwrap_err();
            let d = read_snapshot_input(&text).unwrap_err();
            assert_eq!(e, d, "{bad:?}");
            assert!(e.message().starts_with("issues[0].body"), "{}", e.message());
        }
    }
}
