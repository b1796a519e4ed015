//! Any JSON value (one stored issue row), as Python's `json.loads` reads
//! it, refusing what a snapshot cannot carry faithfully.

use super::*;

impl<'a> Reader<'a> {
    // ---- any value (stored issue rows) ----------------------------------

    /// Any JSON value, as Python's `json.loads` accepts it, but refusing what
    /// Python would turn into something a snapshot cannot carry faithfully:
    /// `NaN`, `Infinity`, a float too large for a double, an integer of more
    /// than 4,300 digits (Python refuses to convert it) and lone surrogates.
    pub(super) fn value(&mut self, depth: usize) -> Result<Value<'a>> {
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
    pub(super) fn number(&mut self) -> Result<Value<'a>> {
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
