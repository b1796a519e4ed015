//! A single-pass reader for the JSON form of the input, written for its schema.
//!
//! Strict RFC 8259, plus the rules of the input form: every field present
//! (except `doctrine_mode`, which the contract lets be missing), no unknown
//! field, no repeated key, no lone surrogate. The reader never recurses into
//! values it does not expect, so nesting is bounded by the schema, and strings
//! without escapes are borrowed from the source.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::error::{ErrorKind, PublishError};
use crate::input::{Checkpoint, IssueRef, IssueSnapshot, MappingRow, Pairs, SnapshotInput, Text};
use crate::limits;

type Result<T> = core::result::Result<T, PublishError>;

/// One step of a field path: `issues`, `[3]`, `credentials["x"]`.
#[derive(Clone, Debug)]
enum Seg<'a> {
    Key(Text<'a>),
    Index(usize),
}

/// Reads the JSON form of a snapshot input.
pub fn read_snapshot_input(src: &str) -> Result<SnapshotInput<'_>> {
    if src.len() > limits::MAX_INPUT_BYTES {
        return Err(PublishError::new(
            ErrorKind::TooLarge,
            format!(
                "input: {} bytes is over the limit of {} bytes (MAX_INPUT_BYTES)",
                src.len(),
                limits::MAX_INPUT_BYTES
            ),
        ));
    }
    let mut r = Reader {
        src,
        pos: 0,
        path: Vec::with_capacity(8),
    };
    let input = r.snapshot_input()?;
    r.ws();
    if r.pos != r.src.len() {
        return Err(r.syntax("unexpected characters after the input object"));
    }
    Ok(input)
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

/// Sets a field slot once; a second time is a repeated key.
macro_rules! once {
    ($r:expr, $slot:expr, $value:expr) => {{
        if $slot.is_some() {
            return Err($r.at("repeated key"));
        }
        $slot = Some($value);
    }};
}

/// Takes a field slot, or reports it missing.
macro_rules! need {
    ($r:expr, $slot:expr, $name:literal) => {
        match $slot {
            Some(v) => v,
            None => return Err($r.missing($name)),
        }
    };
}

struct Reader<'a> {
    src: &'a str,
    pos: usize,
    path: Vec<Seg<'a>>,
}

impl<'a> Reader<'a> {
    // ---- errors -------------------------------------------------------

    fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
                Seg::Key(k) if is_ident(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Key(k) => {
                    s.push_str("[\"");
                    for c in k.chars() {
                        match c {
                            '"' | '\\' => {
                                s.push('\\');
                                s.push(c);
                            }
                            c if c.is_control() => {
                                let _ = write!(s, "\\u{:04x}", c as u32);
                            }
                            c => s.push(c),
                        }
                    }
                    s.push_str("\"]");
                }
            }
        }
        s
    }

    /// `invalid-input` at the current path.
    fn at(&self, what: impl core::fmt::Display) -> PublishError {
        PublishError::invalid_input(&self.path_string(), what)
    }

    fn missing(&self, field: &'static str) -> PublishError {
        let mut path = self.path_string();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
        PublishError::invalid_input(&path, "missing field")
    }

    fn syntax(&self, what: &str) -> PublishError {
        let before = &self.src.as_bytes()[..self.pos.min(self.src.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        self.at(format_args!("malformed JSON at line {line}, column {col}: {what}"))
    }

    fn expected(&self, what: &str) -> PublishError {
        self.at(format_args!("expected {what}, found {}", kind_name(self.peek())))
    }

    fn too_large(&self, what: core::fmt::Arguments<'_>) -> PublishError {
        PublishError::new(ErrorKind::TooLarge, format!("{}: {what}", self.path_string()))
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
        } else if self.peek().is_none() {
            Err(self.syntax(&format!("unexpected end of input, expected {what}")))
        } else {
            Err(self.syntax(&format!("expected {what}")))
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

    /// A string, borrowed when it has no escapes.
    fn raw_string(&mut self) -> Result<Text<'a>> {
        let src: &'a str = self.src;
        let bytes = src.as_bytes();
        // Caller checked the opening quote.
        self.pos += 1;
        let start = self.pos;
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.syntax("unterminated string")),
                Some(b'"') => {
                    let s = &src[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return Err(self.syntax("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&src[start..self.pos]);
        loop {
            let run = self.pos;
            while let Some(&b) = bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&src[run..self.pos]);
            match bytes.get(self.pos) {
                None => return Err(self.syntax("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
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
            return Err(self.too_large(format_args!(
                "string of {} bytes is over the limit of {} bytes (MAX_STRING_BYTES)",
                s.len(),
                limits::MAX_STRING_BYTES
            )));
        }
        Ok(s)
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
        let digit_run = &self.src[digits..self.pos];
        if digit_run.is_empty() {
            self.pos = start;
            return Err(self.expected("an integer or null"));
        }
        if digit_run.len() > 1 && digit_run.starts_with('0') {
            self.pos = start;
            return Err(self.syntax("leading zero in number"));
        }
        if let Some(b'.' | b'e' | b'E') = bytes.get(self.pos) {
            self.pos = start;
            return Err(self.at("expected an integer or null, found a number with a fraction or exponent"));
        }
        self.src[start..self.pos]
            .parse::<i64>()
            .map(Some)
            .map_err(|_| self.at("integer out of range (-2^63 to 2^63-1)"))
    }

    // ---- structure ----------------------------------------------------

    /// Walks an object, calling `field` with each key after pushing it on the path.
    fn object(&mut self, what: &str, mut field: impl FnMut(&mut Self, &Text<'a>) -> Result<()>) -> Result<()> {
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
    fn array(&mut self, limit: usize, limit_name: &str, mut item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
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
                return Err(self.too_large(format_args!(
                    "more than {limit} items is over the limit ({limit_name})"
                )));
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
                return Err(r.too_large(format_args!(
                    "more than {} entries is over the limit (MAX_MAP_ENTRIES)",
                    limits::MAX_MAP_ENTRIES
                )));
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

    fn unknown(&self) -> PublishError {
        self.at("unknown field")
    }

    // ---- the schema ---------------------------------------------------

    fn snapshot_input(&mut self) -> Result<SnapshotInput<'a>> {
        let (mut server_url, mut auth_token, mut provider, mut workspace) = (None, None, None, None);
        let (mut doctrine_mode, mut owners, mut credentials) = (None, None, None);
        let (mut uuid, mut slug, mut issues, mut mappings, mut checkpoint) = (None, None, None, None, None);
        self.object("an object (the snapshot input)", |r, key| {
            match key.as_ref() {
                "server_url" => once!(r, server_url, r.string()?),
                "auth_token" => once!(r, auth_token, r.opt_string()?),
                "provider" => once!(r, provider, r.string()?),
                "workspace" => once!(r, workspace, r.string()?),
                "doctrine_mode" => once!(r, doctrine_mode, r.opt_string()?),
                "doctrine_field_owners" => once!(r, owners, r.string_map()?),
                "credentials" => once!(r, credentials, r.string_map()?),
                "project_uuid" => once!(r, uuid, r.opt_string()?),
                "project_slug" => once!(r, slug, r.opt_string()?),
                "issues" => {
                    let mut v = Vec::new();
                    r.array(limits::MAX_ISSUES, "MAX_ISSUES", |r| {
                        v.push(r.issue()?);
                        Ok(())
                    })?;
                    once!(r, issues, v)
                }
                "mappings" => {
                    let mut v = Vec::new();
                    r.array(limits::MAX_MAPPINGS, "MAX_MAPPINGS", |r| {
                        v.push(r.mapping()?);
                        Ok(())
                    })?;
                    once!(r, mappings, v)
                }
                "checkpoint" => {
                    let c = if r.null()? { None } else { Some(r.checkpoint()?) };
                    once!(r, checkpoint, c)
                }
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        Ok(SnapshotInput {
            server_url: need!(self, server_url, "server_url"),
            auth_token: need!(self, auth_token, "auth_token"),
            provider: need!(self, provider, "provider"),
            workspace: need!(self, workspace, "workspace"),
            // The contract lets the doctrine mode be missing.
            doctrine_mode: doctrine_mode.flatten(),
            doctrine_field_owners: need!(self, owners, "doctrine_field_owners"),
            credentials: need!(self, credentials, "credentials"),
            project_uuid: need!(self, uuid, "project_uuid"),
            project_slug: need!(self, slug, "project_slug"),
            issues: need!(self, issues, "issues"),
            mappings: need!(self, mappings, "mappings"),
            checkpoint: need!(self, checkpoint, "checkpoint"),
        })
    }

    fn issue(&mut self) -> Result<IssueSnapshot<'a>> {
        let (mut iref, mut title, mut body, mut status, mut issue_type) = (None, None, None, None, None);
        let (mut priority, mut assignees, mut labels, mut updated_at) = (None, None, None, None);
        self.object("an object (an issue)", |r, key| {
            match key.as_ref() {
                "ref" => once!(r, iref, r.issue_ref()?),
                "title" => once!(r, title, r.string()?),
                "body" => once!(r, body, r.opt_string()?),
                "status" => once!(r, status, r.string()?),
                "issue_type" => once!(r, issue_type, r.string()?),
                "priority" => once!(r, priority, r.opt_i64()?),
                "assignees" => once!(r, assignees, r.string_list()?),
                "labels" => once!(r, labels, r.string_list()?),
                "updated_at" => once!(r, updated_at, r.opt_string()?),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        Ok(IssueSnapshot {
            r#ref: need!(self, iref, "ref"),
            title: need!(self, title, "title"),
            body: need!(self, body, "body"),
            status: need!(self, status, "status"),
            issue_type: need!(self, issue_type, "issue_type"),
            priority: need!(self, priority, "priority"),
            assignees: need!(self, assignees, "assignees"),
            labels: need!(self, labels, "labels"),
            updated_at: need!(self, updated_at, "updated_at"),
        })
    }

    fn issue_ref(&mut self) -> Result<IssueRef<'a>> {
        let (mut system, mut workspace, mut id, mut key_, mut url) = (None, None, None, None, None);
        self.object("an object (an issue ref)", |r, key| {
            match key.as_ref() {
                "system" => once!(r, system, r.string()?),
                "workspace" => once!(r, workspace, r.string()?),
                "id" => once!(r, id, r.string()?),
                "key" => once!(r, key_, r.opt_string()?),
                "url" => once!(r, url, r.opt_string()?),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        Ok(IssueRef {
            system: need!(self, system, "system"),
            workspace: need!(self, workspace, "workspace"),
            id: need!(self, id, "id"),
            key: need!(self, key_, "key"),
            url: need!(self, url, "url"),
        })
    }

    fn mapping(&mut self) -> Result<MappingRow<'a>> {
        let (mut wp_id, mut system, mut workspace, mut external_id) = (None, None, None, None);
        let (mut external_key, mut external_url, mut created_at, mut updated_at) = (None, None, None, None);
        self.object("an object (a mapping)", |r, key| {
            match key.as_ref() {
                "wp_id" => once!(r, wp_id, r.string()?),
                "system" => once!(r, system, r.string()?),
                "workspace" => once!(r, workspace, r.string()?),
                "external_id" => once!(r, external_id, r.string()?),
                "external_key" => once!(r, external_key, r.opt_string()?),
                "external_url" => once!(r, external_url, r.opt_string()?),
                "created_at" => once!(r, created_at, r.string()?),
                "updated_at" => once!(r, updated_at, r.string()?),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        Ok(MappingRow {
            wp_id: need!(self, wp_id, "wp_id"),
            system: need!(self, system, "system"),
            workspace: need!(self, workspace, "workspace"),
            external_id: need!(self, external_id, "external_id"),
            external_key: need!(self, external_key, "external_key"),
            external_url: need!(self, external_url, "external_url"),
            created_at: need!(self, created_at, "created_at"),
            updated_at: need!(self, updated_at, "updated_at"),
        })
    }

    fn checkpoint(&mut self) -> Result<Checkpoint<'a>> {
        let (mut cursor, mut updated_since) = (None, None);
        self.object("an object or null (the checkpoint)", |r, key| {
            match key.as_ref() {
                "cursor" => once!(r, cursor, r.opt_string()?),
                "updated_since" => once!(r, updated_since, r.opt_string()?),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        Ok(Checkpoint {
            cursor: need!(self, cursor, "cursor"),
            updated_since: need!(self, updated_since, "updated_since"),
        })
    }
}

/// True when a key can be shown as `.key` in a path.
fn is_ident(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
