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

impl<'a> Reader<'a> {
    // ---- errors -------------------------------------------------------
    //
    // Every error constructor is cold and out of line: the reading loops stay
    // small and fast, and messages are built without `core::fmt`.

    #[cold]
    #[inline(never)]
    fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Index(i) => {
                    push(&mut s, Str("["));
                    push(&mut s, Num(*i));
                    push(&mut s, Str("]"));
                }
                Seg::Key(k) if is_ident(k) => {
                    if !s.is_empty() {
                        push(&mut s, Str("."));
                    }
                    push(&mut s, Str(k));
                }
                Seg::Key(k) => {
                    push(&mut s, Str("["));
                    push(&mut s, Quoted(k));
                    push(&mut s, Str("]"));
                }
            }
        }
        s
    }

    /// `invalid-input` at the current path.
    #[cold]
    #[inline(never)]
    fn at(&self, what: &str) -> PublishError {
        PublishError::invalid_input(&self.path_string(), what)
    }

    #[cold]
    #[inline(never)]
    fn missing(&self, field: &'static str) -> PublishError {
        let mut path = self.path_string();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
        PublishError::invalid_input(&path, "missing field")
    }

    #[cold]
    #[inline(never)]
    fn syntax(&self, what: &str) -> PublishError {
        let bytes = self.src.as_bytes();
        let before = bytes.get(..self.pos).unwrap_or(bytes);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        self.at(&msg(&[
            Str("malformed JSON at line "),
            Num(line),
            Str(", column "),
            Num(col),
            Str(": "),
            Str(what),
        ]))
    }

    #[cold]
    #[inline(never)]
    fn expected(&self, what: &str) -> PublishError {
        // An array or object where the schema has none: if it nests past the
        // limit, say so (a hostile input), else it is just the wrong type.
        if self.nests_deeper_than(limits::MAX_NESTING_DEPTH) {
            return self.too_large(&msg(&[
                Str("nested deeper than "),
                Num(limits::MAX_NESTING_DEPTH),
                Str(" arrays and objects (MAX_NESTING_DEPTH)"),
            ]));
        }
        self.at(&msg(&[
            Str("expected "),
            Str(what),
            Str(", found "),
            Str(kind_name(self.peek())),
        ]))
    }

    /// Whether the value at the current position opens more than `limit`
    /// arrays and objects at once (strings skipped, nothing allocated).
    #[cold]
    #[inline(never)]
    fn nests_deeper_than(&self, limit: usize) -> bool {
        if !matches!(self.peek(), Some(b'[' | b'{')) {
            return false;
        }
        let bytes = self.src.as_bytes();
        let (mut depth, mut i, mut in_string) = (0usize, self.pos, false);
        while let Some(&b) = bytes.get(i) {
            i += 1;
            match (in_string, b) {
                (true, b'\\') => i += 1,
                (true, b'"') => in_string = false,
                (true, _) => {}
                (false, b'"') => in_string = true,
                (false, b'[' | b'{') => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                (false, b']' | b'}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return false;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// `too-large` at the current path: `"{path}: {what}"`.
    #[cold]
    #[inline(never)]
    fn too_large(&self, what: &str) -> PublishError {
        PublishError::new(
            ErrorKind::TooLarge,
            msg(&[Str(&self.path_string()), Str(": "), Str(what)]),
        )
    }

    #[cold]
    #[inline(never)]
    fn string_too_large(&self, len: usize) -> PublishError {
        self.too_large(&limits::string_over_limit(len))
    }

    #[cold]
    #[inline(never)]
    fn items_too_large(&self, limit: usize, limit_name: &str) -> PublishError {
        self.too_large(&msg(&[
            Str("more than "),
            Num(limit),
            Str(" items is over the limit ("),
            Str(limit_name),
            Str(")"),
        ]))
    }

    #[cold]
    #[inline(never)]
    fn entries_too_large(&self) -> PublishError {
        self.too_large(&msg(&[
            Str("more than "),
            Num(limits::MAX_MAP_ENTRIES),
            Str(" entries is over the limit (MAX_MAP_ENTRIES)"),
        ]))
    }

    #[cold]
    #[inline(never)]
    fn unknown(&self) -> PublishError {
        self.at("unknown field")
    }

    #[cold]
    #[inline(never)]
    fn eat_failed(&self, what: &str) -> PublishError {
        if self.peek().is_none() {
            self.syntax(&msg(&[
                Str("unexpected end of input, expected "),
                Str(what),
            ]))
        } else {
            self.syntax(&msg(&[Str("expected "), Str(what)]))
        }
    }

    /// `src[start..end]`; the reader only cuts at ASCII bytes, so this never
    /// fails, but it is checked rather than trusted (no panic path).
    #[inline]
    fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        let src: &'a str = self.src;
        src.get(start..end)
            .ok_or_else(|| self.syntax("invalid UTF-8"))
    }

    // ---- tokens -------------------------------------------------------

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        let bytes = self.src.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Consumes `lit` (after white space) or fails with a syntax error.
    fn eat(&mut self, b: u8, what: &str) -> Result<()> {
        self.ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.eat_failed(what))
        }
    }

    /// Consumes `null` if it is next.
    fn null(&mut self) -> Result<bool> {
        self.ws();
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        if self.src.as_bytes().get(self.pos..self.pos + 4) == Some(b"null") {
            self.pos += 4;
            Ok(true)
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    /// A string, borrowed when it has no escapes. The common case (no
    /// escape) is inlined into the callers; the rest is out of line.
    #[inline]
    fn raw_string(&mut self) -> Result<Text<'a>> {
        let bytes = self.src.as_bytes();
        // Caller checked the opening quote.
        let start = self.pos + 1;
        // `find_special` stops only at `"`, `\` or a control character.
        let end = find_special(bytes, start);
        if bytes.get(end) == Some(&b'"')
            && let Some(s) = self.src.get(start..end)
        {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(s));
        }
        self.pos = end;
        self.escaped_string(start)
    }

    /// [`Self::raw_string`] from the first byte that is not plain text.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize) -> Result<Text<'a>> {
        let bytes = self.src.as_bytes();
        match bytes.get(self.pos) {
            None => return Err(self.syntax("unterminated string")),
            Some(b'\\') => {}
            // Only if `src[start..pos]` were not on character boundaries,
            // which the reader never cuts at (see `slice`).
            Some(b'"') => return Err(self.syntax("invalid UTF-8")),
            Some(_) => return Err(self.syntax("control character in string")),
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(self.slice(start, self.pos)?);
        loop {
            let run = self.pos;
            self.pos = find_special(bytes, self.pos);
            out.push_str(self.slice(run, self.pos)?);
            match bytes.get(self.pos) {
                None => return Err(self.syntax("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    // The spare capacity of the last doubling is given back
                    // (free for the component's allocator: the newest block).
                    out.shrink_to_fit();
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = bytes.get(self.pos).copied();
                    self.pos += 1;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.syntax("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.syntax("control character in string")),
            }
        }
    }

    /// At an opening quote: the string as it stands in the source, escapes
    /// included, when every escape in it is the one the body writer would
    /// write for its character (`\"` `\\` `\b` `\f` `\n` `\r` `\t`, else
    /// `\u00xx` in lower-case hex for the other control characters) and it
    /// is within the string limit; else `None`, leaving the position as it
    /// was, and the string is read the ordinary way (which reports any error).
    fn verbatim_string(&mut self) -> Option<&'a str> {
        let bytes = self.src.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        loop {
            i = find_special(bytes, i);
            match bytes.get(i)? {
                b'"' => break,
                b'\\' => {}
                _ => return None,
            }
            match bytes.get(i + 1)? {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => match bytes.get(i + 2..i + 6)? {
                    [b'0', b'0', b'0', b'0'..=b'7' | b'b' | b'e' | b'f']
                    | [b'0', b'0', b'1', b'0'..=b'9' | b'a'..=b'f'] => i += 6,
                    _ => return None,
                },
                _ => return None,
            }
        }
        if i - start > limits::MAX_STRING_BYTES {
            return None;
        }
        let s = self.src.get(start..i)?;
        self.pos = i + 1;
        Some(s)
    }

    /// An issue's `title` (see [`read_snapshot_input_verbatim`]).
    #[inline(never)]
    fn put_text(&mut self, field: &mut Text<'a>) -> Result<()> {
        if self.verbatim {
            self.ws();
            if self.peek() == Some(b'"')
                && let Some(s) = self.verbatim_string()
            {
                *field = Cow::Borrowed(s);
                return Ok(());
            }
        }
        self.put_string(field)
    }

    /// An issue's `body` (see [`read_snapshot_input_verbatim`]).
    #[inline(never)]
    fn put_opt_text(&mut self, field: &mut Option<Text<'a>>) -> Result<()> {
        if self.verbatim {
            self.ws();
            if self.peek() == Some(b'"')
                && let Some(s) = self.verbatim_string()
            {
                *field = Some(Cow::Borrowed(s));
                return Ok(());
            }
        }
        self.put_opt_string(field)
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .src
            .as_bytes()
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.syntax("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.syntax("invalid \\u escape")),
            };
            v = v * 16 + n as u32;
        }
        self.pos += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.src.as_bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.at("lone surrogate in string (not valid Unicode)"));
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.at("lone surrogate in string (not valid Unicode)"));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.at("lone surrogate in string (not valid Unicode)")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.syntax("invalid \\u escape"))
    }

    /// A string value, checked against the length limit.
    fn string(&mut self) -> Result<Text<'a>> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(self.expected("a string"));
        }
        let s = self.raw_string()?;
        if s.len() > limits::MAX_STRING_BYTES {
            return Err(self.string_too_large(s.len()));
        }
        Ok(s)
    }

    /// [`Self::string`] into a field (one copy of the code that replaces it).
    #[inline(never)]
    fn put_string(&mut self, field: &mut Text<'a>) -> Result<()> {
        *field = self.string()?;
        Ok(())
    }

    /// [`Self::opt_string`] into a field.
    #[inline(never)]
    fn put_opt_string(&mut self, field: &mut Option<Text<'a>>) -> Result<()> {
        *field = self.opt_string()?;
        Ok(())
    }

    fn opt_string(&mut self) -> Result<Option<Text<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        if self.peek() != Some(b'"') {
            return Err(self.expected("a string or null"));
        }
        self.string().map(Some)
    }

    fn opt_i64(&mut self) -> Result<Option<i64>> {
        if self.null()? {
            return Ok(None);
        }
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        let digits = self.pos;
        while let Some(b'0'..=b'9') = bytes.get(self.pos) {
            self.pos += 1;
        }
        let digit_run = bytes.get(digits..self.pos).unwrap_or_default();
        if digit_run.is_empty() {
            self.pos = start;
            return Err(self.expected("an integer or null"));
        }
        if digit_run.len() > 1 && digit_run.first() == Some(&b'0') {
            self.pos = start;
            return Err(self.syntax("leading zero in number"));
        }
        if let Some(b'.' | b'e' | b'E') = bytes.get(self.pos) {
            self.pos = start;
            return Err(
                self.at("expected an integer or null, found a number with a fraction or exponent")
            );
        }
        // The magnitude, then the sign: -2^63 fits, 2^63 does not.
        let magnitude = digit_run.iter().try_fold(0u64, |v, &d| {
            v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        match magnitude {
            Some(m) if neg && m <= 1 << 63 => Ok(Some((m as i64).wrapping_neg())),
            Some(m) if !neg && m < 1 << 63 => Ok(Some(m as i64)),
            _ => Err(self.at("integer out of range (-2^63 to 2^63-1)")),
        }
    }

    // ---- structure ----------------------------------------------------
    //
    // One closure per call site, inlined: a cursor (`next_key`) instead made
    // the guest about 4 KB smaller but 3 to 5% slower under wasmtime.

    /// Walks an object, calling `field` with each key after pushing it on the path.
    fn object(
        &mut self,
        what: &str,
        mut field: impl FnMut(&mut Self, &Text<'a>) -> Result<()>,
    ) -> Result<()> {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(self.expected(what));
        }
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a key in double quotes"));
            }
            let key = self.raw_string()?;
            self.eat(b':', "':' after a key")?;
            self.path.push(Seg::Key(key.clone()));
            field(self, &key)?;
            self.path.pop();
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.syntax("unexpected end of input, expected ',' or '}'")),
                Some(_) => return Err(self.syntax("expected ',' or '}'")),
            }
        }
    }

    /// Walks an array, calling `item` with each index after pushing it on the path.
    fn array(
        &mut self,
        limit: usize,
        limit_name: &str,
        mut item: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.ws();
        if self.peek() != Some(b'[') {
            return Err(self.expected("an array"));
        }
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            if i == limit {
                return Err(self.items_too_large(limit, limit_name));
            }
            self.path.push(Seg::Index(i));
            item(self)?;
            self.path.pop();
            i += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.syntax("unexpected end of input, expected ',' or ']'")),
                Some(_) => return Err(self.syntax("expected ',' or ']'")),
            }
        }
    }

    fn string_list(&mut self) -> Result<Vec<Text<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_LIST_ITEMS, "MAX_LIST_ITEMS", |r| {
            v.push(r.string()?);
            Ok(())
        })?;
        Ok(v)
    }

    /// An object of string values, in order; a repeated key is refused.
    fn string_map(&mut self) -> Result<Pairs<'a>> {
        let mut pairs: Pairs<'a> = Vec::new();
        self.object("an object of strings", |r, key| {
            if pairs.len() == limits::MAX_MAP_ENTRIES {
                return Err(r.entries_too_large());
            }
            // Keys are strings too: the same limit (the path names the key).
            if key.len() > limits::MAX_STRING_BYTES {
                return Err(r.string_too_large(key.len()));
            }
            let value = r.string()?;
            pairs.push((key.clone(), value));
            Ok(())
        })?;
        if let Some(dup) = crate::input::first_repeated_key(&pairs) {
            self.path.push(Seg::Key(Cow::Owned(dup.to_owned())));
            let e = self.at("repeated key");
            self.path.pop();
            return Err(e);
        }
        Ok(pairs)
    }

    /// Marks a field as given; a second time is a repeated key. When the
    /// reader is `ordered`, every field before it in `names` (field `i` is
    /// bit `1 << i`) must have been given already.
    fn once(&self, seen: &mut u32, bit: u32, names: &[&'static str]) -> Result<()> {
        if *seen & bit != 0 {
            return Err(self.at("repeated key"));
        }
        let before = bit.wrapping_sub(1) & !*seen;
        if self.ordered && before != 0 {
            return Err(self.out_of_order(names, before));
        }
        *seen |= bit;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn out_of_order(&self, names: &[&'static str], before: u32) -> PublishError {
        let name = names
            .get(before.trailing_zeros() as usize)
            .copied()
            .unwrap_or_default();
        self.at(&msg(&[
            Str("out of contract order: expected field "),
            Quoted(name),
            Str(" first (section 4 key order)"),
        ]))
    }

    /// Every field of `names` (field `i` is bit `1 << i`) must have been
    /// given; else the first one missing is reported.
    fn require(&self, seen: u32, names: &[&'static str]) -> Result<()> {
        let missing = !seen & ((1u32 << names.len()) - 1);
        if missing == 0 {
            return Ok(());
        }
        let name = names
            .get(missing.trailing_zeros() as usize)
            .copied()
            .unwrap_or_default();
        Err(self.missing(name))
    }

    // ---- the schema ---------------------------------------------------
    //
    // Each record is filled in place; `seen` has one bit per field, in the
    // order in which missing fields are reported.

    fn snapshot_input(&mut self) -> Result<SnapshotInput<'a>> {
        const NAMES: [&str; 11] = [
            "server_url",
            "auth_token",
            "provider",
            "workspace",
            "doctrine_field_owners",
            "credentials",
            "project_uuid",
            "project_slug",
            "issues",
            "mappings",
            "checkpoint",
        ];
        // The contract lets the doctrine mode be missing: it is not in NAMES.
        const DOCTRINE_MODE: u32 = 1 << NAMES.len();
        let mut out = SnapshotInput::default();
        let mut seen = 0;
        self.object("an object (the snapshot input)", |r, key| {
            match key.as_ref() {
                "server_url" => put!(r, seen, 1 << 0, r.put_string(&mut out.server_url)),
                "auth_token" => put!(r, seen, 1 << 1, r.put_opt_string(&mut out.auth_token)),
                "provider" => put!(r, seen, 1 << 2, r.put_string(&mut out.provider)),
                "workspace" => put!(r, seen, 1 << 3, r.put_string(&mut out.workspace)),
                "doctrine_field_owners" => {
                    set!(r, seen, 1 << 4, out.doctrine_field_owners, r.string_map()?)
                }
                "credentials" => set!(r, seen, 1 << 5, out.credentials, r.string_map()?),
                "project_uuid" => put!(r, seen, 1 << 6, r.put_opt_string(&mut out.project_uuid)),
                "project_slug" => put!(r, seen, 1 << 7, r.put_opt_string(&mut out.project_slug)),
                "issues" => set!(r, seen, 1 << 8, out.issues, r.issue_list()?),
                "mappings" => set!(r, seen, 1 << 9, out.mappings, r.mapping_list()?),
                "checkpoint" => {
                    let c = if r.null()? {
                        None
                    } else {
                        Some(r.checkpoint()?)
                    };
                    set!(r, seen, 1 << 10, out.checkpoint, c)
                }
                "doctrine_mode" => put!(
                    r,
                    seen,
                    DOCTRINE_MODE,
                    r.put_opt_string(&mut out.doctrine_mode)
                ),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    /// `issues`: the same list in the input form and in a payload.
    fn issue_list(&mut self) -> Result<Vec<IssueSnapshot<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_ISSUES, "MAX_ISSUES", |r| {
            v.push(r.issue()?);
            Ok(())
        })?;
        Ok(v)
    }

    /// `mappings`: the same list in the input form and in a payload.
    fn mapping_list(&mut self) -> Result<Vec<MappingRow<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_MAPPINGS, "MAX_MAPPINGS", |r| {
            v.push(r.mapping()?);
            Ok(())
        })?;
        Ok(v)
    }

    fn snapshot_payload(&mut self) -> Result<SnapshotPayload<'a>> {
        const NAMES: [&str; 11] = [
            "provider",
            "workspace",
            "external_resource_type",
            "external_resource_id",
            "doctrine_mode",
            "doctrine_field_owners",
            "project_uuid",
            "project_slug",
            "issues",
            "mappings",
            "checkpoint",
        ];
        let mut out = SnapshotPayload::default();
        let mut seen = 0;
        self.object("an object (the snapshot payload)", |r, key| {
            match key.as_ref() {
                "provider" => put!(r, seen, 1 << 0, r.put_string(&mut out.provider)),
                "workspace" => put!(r, seen, 1 << 1, r.put_string(&mut out.workspace)),
                "external_resource_type" => put!(
                    r,
                    seen,
                    1 << 2,
                    r.put_opt_string(&mut out.external_resource_type)
                ),
                "external_resource_id" => put!(
                    r,
                    seen,
                    1 << 3,
                    r.put_opt_string(&mut out.external_resource_id)
                ),
                "doctrine_mode" => put!(r, seen, 1 << 4, r.put_string(&mut out.doctrine_mode)),
                "doctrine_field_owners" => {
                    set!(r, seen, 1 << 5, out.doctrine_field_owners, r.string_map()?)
                }
                "project_uuid" => put!(r, seen, 1 << 6, r.put_opt_string(&mut out.project_uuid)),
                "project_slug" => put!(r, seen, 1 << 7, r.put_opt_string(&mut out.project_slug)),
                "issues" => set!(r, seen, 1 << 8, out.issues, r.issue_list()?),
                "mappings" => set!(r, seen, 1 << 9, out.mappings, r.mapping_list()?),
                "checkpoint" => {
                    // A client always writes the object, nulls inside when
                    // there is no checkpoint row.
                    r.once(&mut seen, 1 << 10, &NAMES)?;
                    r.ws();
                    if r.peek() != Some(b'{') {
                        return Err(r.expected("an object (the checkpoint)"));
                    }
                    out.checkpoint = r.checkpoint()?;
                }
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    fn issue(&mut self) -> Result<IssueSnapshot<'a>> {
        const NAMES: [&str; 9] = [
            "ref",
            "title",
            "body",
            "status",
            "issue_type",
            "priority",
            "assignees",
            "labels",
            "updated_at",
        ];
        let mut out = IssueSnapshot::default();
        let mut seen = 0;
        self.object("an object (an issue)", |r, key| {
            match key.as_ref() {
                "ref" => set!(r, seen, 1 << 0, out.r#ref, r.issue_ref()?),
                "title" => put!(r, seen, 1 << 1, r.put_text(&mut out.title)),
                "body" => put!(r, seen, 1 << 2, r.put_opt_text(&mut out.body)),
                "status" => put!(r, seen, 1 << 3, r.put_string(&mut out.status)),
                "issue_type" => put!(r, seen, 1 << 4, r.put_string(&mut out.issue_type)),
                "priority" => set!(r, seen, 1 << 5, out.priority, r.opt_i64()?),
                "assignees" => set!(r, seen, 1 << 6, out.assignees, r.string_list()?),
                "labels" => set!(r, seen, 1 << 7, out.labels, r.string_list()?),
                "updated_at" => put!(r, seen, 1 << 8, r.put_opt_string(&mut out.updated_at)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    fn issue_ref(&mut self) -> Result<IssueRef<'a>> {
        const NAMES: [&str; 5] = ["system", "workspace", "id", "key", "url"];
        let mut out = IssueRef::default();
        let mut seen = 0;
        self.object("an object (an issue ref)", |r, key| {
            match key.as_ref() {
                "system" => put!(r, seen, 1 << 0, r.put_string(&mut out.system)),
                "workspace" => put!(r, seen, 1 << 1, r.put_string(&mut out.workspace)),
                "id" => put!(r, seen, 1 << 2, r.put_string(&mut out.id)),
                "key" => put!(r, seen, 1 << 3, r.put_opt_string(&mut out.key)),
                "url" => put!(r, seen, 1 << 4, r.put_opt_string(&mut out.url)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    fn mapping(&mut self) -> Result<MappingRow<'a>> {
        const NAMES: [&str; 8] = [
            "wp_id",
            "system",
            "workspace",
            "external_id",
            "external_key",
            "external_url",
            "created_at",
            "updated_at",
        ];
        let mut out = MappingRow::default();
        let mut seen = 0;
        self.object("an object (a mapping)", |r, key| {
            match key.as_ref() {
                "wp_id" => put!(r, seen, 1 << 0, r.put_string(&mut out.wp_id)),
                "system" => put!(r, seen, 1 << 1, r.put_string(&mut out.system)),
                "workspace" => put!(r, seen, 1 << 2, r.put_string(&mut out.workspace)),
                "external_id" => put!(r, seen, 1 << 3, r.put_string(&mut out.external_id)),
                "external_key" => put!(r, seen, 1 << 4, r.put_opt_string(&mut out.external_key)),
                "external_url" => put!(r, seen, 1 << 5, r.put_opt_string(&mut out.external_url)),
                "created_at" => put!(r, seen, 1 << 6, r.put_string(&mut out.created_at)),
                "updated_at" => put!(r, seen, 1 << 7, r.put_string(&mut out.updated_at)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    fn checkpoint(&mut self) -> Result<Checkpoint<'a>> {
        const NAMES: [&str; 2] = ["cursor", "updated_since"];
        let mut out = Checkpoint::default();
        let mut seen = 0;
        self.object("an object or null (the checkpoint)", |r, key| {
            match key.as_ref() {
                "cursor" => put!(r, seen, 1 << 0, r.put_opt_string(&mut out.cursor)),
                "updated_since" => put!(r, seen, 1 << 1, r.put_opt_string(&mut out.updated_since)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    // ---- any value (stored issue rows) ----------------------------------

    /// Any JSON value, as Python's `json.loads` accepts it, but refusing what
    /// Python would turn into something a snapshot cannot carry faithfully:
    /// `NaN`, `Infinity`, a float too large for a double, an integer of more
    /// than 4,300 digits (Python refuses to convert it) and lone surrogates.
    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        self.ws();
        let bytes = self.src.as_bytes();
        match self.peek() {
            Some(b'{') | Some(b'[') if depth == limits::MAX_NESTING_DEPTH => Err(self.too_large(
                &msg(&[
                    Str("nested deeper than "),
                    Num(limits::MAX_NESTING_DEPTH),
                    Str(" arrays and objects (MAX_NESTING_DEPTH)"),
                ]),
            )),
            Some(b'{') => {
                let mut pairs = Vec::new();
                self.object("an object", |r, key| {
                    pairs.push((key.clone(), r.value(depth + 1)?));
                    Ok(())
                })?;
                Ok(Value::Object(pairs))
            }
            Some(b'[') => {
                let mut items = Vec::new();
                self.array(usize::MAX, "", |r| {
                    items.push(r.value(depth + 1)?);
                    Ok(())
                })?;
                Ok(Value::Array(items))
            }
            Some(b'"') => Ok(Value::Str(self.raw_string()?)),
            Some(b'n') => {
                self.null()?;
                Ok(Value::Null)
            }
            Some(b't') | Some(b'f') => {
                let t = bytes.get(self.pos..self.pos + 4) == Some(b"true");
                let f = bytes.get(self.pos..self.pos + 5) == Some(b"false");
                if !(t || f) {
                    return Err(self.syntax("invalid literal"));
                }
                self.pos += if t { 4 } else { 5 };
                Ok(Value::Bool(t))
            }
            Some(b'N') | Some(b'I') => Err(self.at(
                "NaN and Infinity are not JSON numbers (Python reads them as floats no snapshot can carry)",
            )),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.expected("a JSON value")),
        }
    }

    /// A number: an integer keeps its text, a float only whether it is zero.
    fn number(&mut self) -> Result<Value<'a>> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while let Some(b'0'..=b'9') = bytes.get(r.pos) {
                r.pos += 1;
            }
            bytes.get(from..r.pos).unwrap_or_default()
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if self.peek() == Some(b'I') {
                return Err(self.at(
                    "NaN and Infinity are not JSON numbers (Python reads them as floats no snapshot can carry)",
                ));
            }
        }
        let int_part = digits(self);
        if int_part.is_empty() {
            return Err(self.syntax("invalid number"));
        }
        if int_part.len() > 1 && int_part.first() == Some(&b'0') {
            // Python reads `0` and stops: the rest is "extra data".
            return Err(self.syntax("leading zero in number"));
        }
        let mut frac_part: &[u8] = &[];
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            frac_part = digits(self);
            if frac_part.is_empty() {
                return Err(self.syntax("invalid number"));
            }
            is_float = true;
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            let neg = match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let e = digits(self);
            if e.is_empty() {
                return Err(self.syntax("invalid number"));
            }
            // Saturates far beyond any boundary that matters.
            let v = e
                .iter()
                .fold(0i64, |v, &d| (v * 10 + i64::from(d - b'0')).min(1 << 40));
            exp = if neg { -v } else { v };
            is_float = true;
        }
        if !is_float {
            if int_part.len() > 4300 {
                return Err(
                    self.at("an integer of more than 4300 digits (Python refuses to convert it)")
                );
            }
            return Ok(Value::Int(self.slice(start, self.pos)?));
        }
        match float_class(int_part, frac_part, exp) {
            Some(zero) => Ok(Value::Float { zero }),
            None => Err(self.at("a number too large for a double (Python reads it as infinity)")),
        }
    }
}

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
