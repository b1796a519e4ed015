//! The reader's errors and tokens: messages with the field path, white
//! space, literals, strings (borrowed, decoded or verbatim), numbers, and
//! the object and array loops the schema readers are built from.

use super::*;

impl<'a> Reader<'a> {
    // ---- errors -------------------------------------------------------
    //
    // Every error constructor is cold and out of line: the reading loops stay
    // small and fast, and messages are built without `core::fmt`.

    #[cold]
    #[inline(never)]
    pub(super) fn path_string(&self) -> String {
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
    pub(super) fn at(&self, what: &str) -> PublishError {
        PublishError::invalid_input(&self.path_string(), what)
    }

    #[cold]
    #[inline(never)]
    pub(super) fn missing(&self, field: &'static str) -> PublishError {
        let mut path = self.path_string();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
        PublishError::invalid_input(&path, "missing field")
    }

    #[cold]
    #[inline(never)]
    pub(super) fn syntax(&self, what: &str) -> PublishError {
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
    pub(super) fn expected(&self, what: &str) -> PublishError {
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
    pub(super) fn nests_deeper_than(&self, limit: usize) -> bool {
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
    pub(super) fn too_large(&self, what: &str) -> PublishError {
        PublishError::new(
            ErrorKind::TooLarge,
            msg(&[Str(&self.path_string()), Str(": "), Str(what)]),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn string_too_large(&self, len: usize) -> PublishError {
        self.too_large(&limits::string_over_limit(len))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn items_too_large(&self, limit: usize, limit_name: &str) -> PublishError {
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
    pub(super) fn entries_too_large(&self) -> PublishError {
        self.too_large(&msg(&[
            Str("more than "),
            Num(limits::MAX_MAP_ENTRIES),
            Str(" entries is over the limit (MAX_MAP_ENTRIES)"),
        ]))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unknown(&self) -> PublishError {
        self.at("unknown field")
    }

    #[cold]
    #[inline(never)]
    pub(super) fn eat_failed(&self, what: &str) -> PublishError {
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
    pub(super) fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        let src: &'a str = self.src;
        src.get(start..end)
            .ok_or_else(|| self.syntax("invalid UTF-8"))
    }

    // ---- tokens -------------------------------------------------------

    pub(super) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(super) fn ws(&mut self) {
        let bytes = self.src.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Consumes `lit` (after white space) or fails with a syntax error.
    pub(super) fn eat(&mut self, b: u8, what: &str) -> Result<()> {
        self.ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.eat_failed(what))
        }
    }

    /// Consumes `null` if it is next.
    pub(super) fn null(&mut self) -> Result<bool> {
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
    pub(super) fn raw_string(&mut self) -> Result<Text<'a>> {
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
    pub(super) fn escaped_string(&mut self, start: usize) -> Result<Text<'a>> {
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
    pub(super) fn verbatim_string(&mut self) -> Option<&'a str> {
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
    pub(super) fn put_text(&mut self, field: &mut Text<'a>) -> Result<()> {
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
    pub(super) fn put_opt_text(&mut self, field: &mut Option<Text<'a>>) -> Result<()> {
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

    pub(super) fn hex4(&mut self) -> Result<u32> {
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

    pub(super) fn unicode_escape(&mut self) -> Result<char> {
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
    pub(super) fn string(&mut self) -> Result<Text<'a>> {
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
    pub(super) fn put_string(&mut self, field: &mut Text<'a>) -> Result<()> {
        *field = self.string()?;
        Ok(())
    }

    /// [`Self::opt_string`] into a field.
    #[inline(never)]
    pub(super) fn put_opt_string(&mut self, field: &mut Option<Text<'a>>) -> Result<()> {
        *field = self.opt_string()?;
        Ok(())
    }

    pub(super) fn opt_string(&mut self) -> Result<Option<Text<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        if self.peek() != Some(b'"') {
            return Err(self.expected("a string or null"));
        }
        self.string().map(Some)
    }

    pub(super) fn opt_i64(&mut self) -> Result<Option<i64>> {
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
    pub(super) fn object(
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
    pub(super) fn array(
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

    pub(super) fn string_list(&mut self) -> Result<Vec<Text<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_LIST_ITEMS, "MAX_LIST_ITEMS", |r| {
            v.push(r.string()?);
            Ok(())
        })?;
        Ok(v)
    }

    /// An object of string values, in order; a repeated key is refused.
    pub(super) fn string_map(&mut self) -> Result<Pairs<'a>> {
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
    pub(super) fn once(&self, seen: &mut u32, bit: u32, names: &[&'static str]) -> Result<()> {
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
    pub(super) fn out_of_order(&self, names: &[&'static str], before: u32) -> PublishError {
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
    pub(super) fn require(&self, seen: u32, names: &[&'static str]) -> Result<()> {
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
}
