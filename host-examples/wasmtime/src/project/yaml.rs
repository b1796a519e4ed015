//! `.kittify/config.yaml` as the CLI's ruamel.yaml loader (YAML 1.2) reads it:
//! a tree of nodes whose plain scalars are resolved the way ruamel resolves
//! them, so that "is this a string?" has the CLI's answer.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A scalar after ruamel's implicit resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A string (quoted, block, or plain text that is nothing else).
    Str(String),
    /// An integer, as Python's `str()` writes it.
    Int(String),
    /// `true`/`false` in any of `true True TRUE`.
    Bool(bool),
    /// `~`, `null`, `Null`, `NULL` or nothing.
    Null,
    /// A float (`1.5`, `1e3`, `.inf`, `.nan`), as written.
    Float(String),
    /// A timestamp (`2026-03-10`): a date, not a string; as written.
    Date(String),
}

/// A YAML node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Node::Scalar(Scalar::Str(s)) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// What it is, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Scalar(Scalar::Str(_)) => "a string",
            Node::Scalar(Scalar::Int(_)) => "an integer",
            Node::Scalar(Scalar::Bool(_)) => "a boolean",
            Node::Scalar(Scalar::Null) => "null",
            Node::Scalar(Scalar::Float(_)) => "a float",
            Node::Scalar(Scalar::Date(_)) => "a date",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML document; `None` for an empty stream. Errors name the line.
pub fn parse(text: &str) -> Result<Option<Node>, String> {
    let mut b = Builder::default();
    Parser::new_from_str(text)
        .load(&mut b, true)
        .map_err(|e| format!("not YAML: {e}"))?;
    if let Some(e) = b.error {
        return Err(e);
    }
    if b.docs.len() > 1 {
        return Err("more than one YAML document (the CLI reads exactly one)".into());
    }
    Ok(b.docs.pop())
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, usize)>,
    /// A mapping key waiting for its value, per open mapping.
    keys: Vec<Option<Node>>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
    error: Option<String>,
}

impl Builder {
    fn fail(&mut self, mark: Marker, what: &str) {
        if self.error.is_none() {
            self.error = Some(format!("line {}: {what}", mark.line()));
        }
    }

    fn push_value(&mut self, node: Node, anchor: usize, mark: Marker) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(pairs), _)) => {
                let slot = self.keys.last_mut().expect("a key slot per mapping");
                match slot.take() {
                    None => {
                        if matches!(node, Node::Seq(_) | Node::Map(_)) {
                            return self.fail(mark, "a list or mapping as a key");
                        }
                        if node == Node::Scalar(Scalar::Str("<<".into())) {
                            return self.fail(mark, "merge keys (<<) are not supported");
                        }
                        if pairs.iter().any(|(k, _)| same_key(k, &node)) {
                            return self.fail(mark, "a key given twice (the CLI refuses it too)");
                        }
                        *slot = Some(node);
                    }
                    Some(key) => pairs.push((key, node)),
                }
            }
            Some(_) => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(_, _, _, Some(_))
            | Event::SequenceStart(_, Some(_))
            | Event::MappingStart(_, Some(_)) => {
                self.fail(mark, "a YAML tag (such as !!str) is not supported")
            }
            Event::Scalar(value, style, anchor, None) => match resolve(&value, style) {
                Ok(s) => self.push_value(Node::Scalar(s), anchor, mark),
                Err(e) => self.fail(mark, &e),
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push_value(node, 0, mark),
                None => self.fail(mark, "an alias to an unknown anchor"),
            },
            Event::SequenceStart(anchor, None) => self.stack.push((Node::Seq(Vec::new()), anchor)),
            Event::MappingStart(anchor, None) => {
                self.stack.push((Node::Map(Vec::new()), anchor));
                self.keys.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor)) = self.stack.pop() {
                    if matches!(node, Node::Map(_)) {
                        self.keys.pop();
                    }
                    self.push_value(node, anchor, mark);
                }
            }
            _ => {}
        }
    }
}

/// Keys equal as Python values: `1`, `1.0`, `1e0` and `true` are one key
/// (Python's `==` across bool, int and float). Two NaN keys (`.nan`,
/// `.NaN`) are one key as well: ruamel's duplicate check refuses them.
fn same_key(a: &Node, b: &Node) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a == b,
        // A number never equals a string, null, date or collection.
        _ => false,
    }
}

/// A numeric key as Python compares it.
#[derive(Debug)]
enum Number {
    /// An integer (a bool as 0 or 1, a float with no fraction), in decimal.
    Int(String),
    /// A float with a fraction, or infinite, or NaN.
    Float(f64),
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Int(x), Number::Int(y)) => x == y,
            (Number::Float(x), Number::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
            _ => false,
        }
    }
}

fn number(n: &Node) -> Option<Number> {
    Some(match n {
        Node::Scalar(Scalar::Int(i)) => Number::Int(i.clone()),
        Node::Scalar(Scalar::Bool(b)) => Number::Int(if *b { "1" } else { "0" }.to_owned()),
        Node::Scalar(Scalar::Float(text)) => {
            let f = float_value(text);
            if f.is_finite() && f.fract() == 0.0 {
                // Exact digits (`{:.0}` prints the exact integer), and -0.0 is 0.
                let digits = format!("{:.0}", f.abs());
                if f < 0.0 && digits != "0" {
                    Number::Int(format!("-{digits}"))
                } else {
                    Number::Int(digits)
                }
            } else {
                Number::Float(f)
            }
        }
        _ => return None,
    })
}

/// The value ruamel gives a float scalar (`is_float` accepted it):
/// underscores dropped, `.inf` and `.nan` in any of their spellings.
fn float_value(text: &str) -> f64 {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t.as_str()),
    };
    let magnitude = match body {
        ".inf" | ".Inf" | ".INF" => f64::INFINITY,
        ".nan" | ".NaN" | ".NAN" => f64::NAN,
        b => b.parse::<f64>().unwrap_or(f64::NAN),
    };
    if negative { -magnitude } else { magnitude }
}

/// ruamel's implicit resolution of a scalar (YAML 1.2 rules).
fn resolve(v: &str, style: TScalarStyle) -> Result<Scalar, String> {
    if style != TScalarStyle::Plain {
        return Ok(Scalar::Str(v.to_owned()));
    }
    Ok(match v {
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        "true" | "True" | "TRUE" => Scalar::Bool(true),
        "false" | "False" | "FALSE" => Scalar::Bool(false),
        _ if is_float(v) => Scalar::Float(v.to_owned()),
        _ if is_timestamp(v) => Scalar::Date(v.to_owned()),
        _ => match int(v) {
            Some(r) => Scalar::Int(r?),
            None => Scalar::Str(v.to_owned()),
        },
    })
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn digits_(s: &str) -> bool {
    all(s, |b| b.is_ascii_digit() || b == b'_')
}

fn unsign(v: &str) -> (bool, &str) {
    match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    }
}

/// `[-+]?([0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)? | [0-9][0-9_]*[eE][-+]?[0-9]+
/// | \.(inf|Inf|INF))`, `\.[0-9_]+([eE][-+][0-9]+)?`, `\.(nan|NaN|NAN)`.
fn is_float(v: &str) -> bool {
    if matches!(v, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let exp_ok = |e: &str, sign_required: bool| {
        let (signed, rest) = match e.as_bytes().first() {
            Some(b'-' | b'+') => (true, &e[1..]),
            _ => (false, e),
        };
        (signed || !sign_required) && !rest.is_empty() && all(rest, |b| b.is_ascii_digit())
    };
    fn split_exp(m: &str) -> (&str, Option<&str>) {
        match m.find(['e', 'E']) {
            Some(i) => (&m[..i], Some(&m[i + 1..])),
            None => (m, None),
        }
    }
    let (_, body) = unsign(v);
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if let Some(rest) = v.strip_prefix('.') {
        let (m, e) = split_exp(rest);
        return !m.is_empty() && digits_(m) && e.is_none_or(|e| exp_ok(e, true));
    }
    let (m, e) = split_exp(body);
    let first_digit = m.as_bytes().first().is_some_and(|b| b.is_ascii_digit());
    if !first_digit {
        return false;
    }
    match m.split_once('.') {
        Some((i, f)) => digits_(i) && digits_(f) && e.is_none_or(|e| exp_ok(e, false)),
        None => digits_(m) && e.is_some_and(|e| exp_ok(e, false)),
    }
}

/// `YYYY-MM-DD`, or `YYYY-M-D` with a time (ruamel's timestamp pattern).
fn is_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    if b.len() == 10
        && (0..4).all(d)
        && b[4] == b'-'
        && d(5)
        && d(6)
        && b[7] == b'-'
        && d(8)
        && d(9)
    {
        return true;
    }
    // With a time: YYYY-M?M-D?D(T| +)H?H:MM:SS...
    if b.len() < 14 || !(0..4).all(d) || b[4] != b'-' {
        return false;
    }
    let Some(t) = v.find(['T', 't', ' ', '\t']) else {
        return false;
    };
    let date: Vec<&str> = v[5..t].split('-').collect();
    date.len() == 2
        && date
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && all(p, |c| c.is_ascii_digit()))
        && v[t..]
            .trim_start_matches([' ', '\t', 'T', 't'])
            .split(':')
            .count()
            >= 3
}

/// An integer scalar: `Some(Ok(str()))`, `Some(Err)` when ruamel would fail
/// to construct it, `None` when it is not an integer.
fn int(v: &str) -> Option<Result<String, String>> {
    let (neg, body) = unsign(v);
    let (radix, digits) = if let Some(r) = body.strip_prefix("0b") {
        (2, r)
    } else if let Some(r) = body.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o") {
        (8, r)
    } else {
        (10, body)
    };
    let ok = |b: u8| b == b'_' || (b as char).is_digit(radix);
    if digits.is_empty() || !all(digits, ok) {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return Some(Err(format!("{v:?} is not a number ruamel can read")));
    }
    let magnitude = if radix == 10 {
        let t = clean.trim_start_matches('0');
        if t.is_empty() {
            "0".to_owned()
        } else {
            t.to_owned()
        }
    } else {
        match u128::from_str_radix(&clean, radix) {
            Ok(n) => n.to_string(),
            Err(_) => return Some(Err("an integer too large to read".into())),
        }
    };
    Some(Ok(if neg && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(v: &str) -> Scalar {
        resolve(v, TScalarStyle::Plain).unwrap()
    }

    #[test]
    fn resolves_as_ruamel_yaml_1_2() {
        assert_eq!(plain("yes"), Scalar::Str("yes".into()));
        assert_eq!(plain("on"), Scalar::Str("on".into()));
        assert_eq!(plain("True"), Scalar::Bool(true));
        assert_eq!(plain("012"), Scalar::Int("12".into()));
        assert_eq!(plain("1_000"), Scalar::Int("1000".into()));
        assert_eq!(plain("-0"), Scalar::Int("0".into()));
        assert_eq!(plain("0x1F"), Scalar::Int("31".into()));
        assert_eq!(plain("1.5"), Scalar::Float("1.5".into()));
        assert_eq!(plain("1e3"), Scalar::Float("1e3".into()));
        assert_eq!(plain(".inf"), Scalar::Float(".inf".into()));
        assert_eq!(plain("2026-03-10"), Scalar::Date("2026-03-10".into()));
        assert_eq!(plain("~"), Scalar::Null);
        assert_eq!(plain("jira"), Scalar::Str("jira".into()));
        assert_eq!(plain("1.2.3"), Scalar::Str("1.2.3".into()));
    }

    #[test]
    fn repeated_keys_are_python_equal_keys() {
        assert!(parse("a: 1\na: 2\n").is_err());
        assert!(parse("1: a\ntrue: b\n").is_err());
        for (a, b) in [
            ("1", "1.0"),
            ("1.0", "true"),
            ("1", "1e0"),
            ("0", "-0.0"),
            ("false", "0.0"),
            ("1.5", "15e-1"),
            ("1_000", "1e3"),
            (".inf", ".Inf"),
            (".nan", ".NaN"),
            ("-.inf", "-.INF"),
            ("1180591620717411303424", "1180591620717411303424.0"),
        ] {
            assert!(parse(&format!("{a}: x\n{b}: y\n")).is_err(), "{a} and {b}");
        }
        for (a, b) in [
            ("1", "1.5"),
            (".inf", "-.inf"),
            ("1", "\"1\""),
            ("1.0", "\"1.0\""),
            ("2026-03-10", "\"2026-03-10\""),
            ("1", "2"),
            // Not exact as a float: Python's == says no.
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890.0",
            ),
        ] {
            assert!(parse(&format!("{a}: x\n{b}: y\n")).is_ok(), "{a} and {b}");
        }
        assert!(parse("x: !!str 1\n").is_err());
        let doc = parse("a: &x {b: 1}\nc: *x\n").unwrap().unwrap();
        assert_eq!(doc.get("c"), doc.get("a"));
    }
}
