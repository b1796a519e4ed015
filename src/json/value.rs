//! Any JSON value, read as Python's `json.loads` reads it, for the stored
//! issue rows of a tracker store (project-state.md): their shape is free, so
//! they cannot go through the schema-driven reader of the input form.

use crate::input::Text;

/// A JSON value as Python sees it after `json.loads`.
///
/// Numbers keep only what the row conversions need: an integer's text (its
/// Python `str()`), and whether a float is zero (Python's truth value).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// An integer, as written (`-0` is the only text that is not canonical).
    Int(&'a str),
    /// A finite float: whether it rounds to zero.
    Float {
        /// `0.0`, `-0e5`, `1e-400` ...
        zero: bool,
    },
    /// A string.
    Str(Text<'a>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object, in order, repeated keys kept (lookups take the last).
    Object(Vec<(Text<'a>, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// The value of `key` in an object, the last one when repeated (a Python
    /// dict keeps the last); `None` for a missing key or a non-object.
    pub(crate) fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(pairs) => pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Python's truth value.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(t) => !matches!(*t, "0" | "-0"),
            Value::Float { zero } => !zero,
            Value::Str(s) => !s.is_empty(),
            Value::Array(v) => !v.is_empty(),
            Value::Object(v) => !v.is_empty(),
        }
    }

    /// What it is, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float { .. } => "a float",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// `2^1024 - 2^970`: the smallest value a correctly rounded float parse turns
/// into infinity (it is halfway to 2^1024, and ties go to even).
const INF_DIGITS: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
/// Its decimal exponent: `INF_DIGITS` is `0.1797... * 10^309`.
const INF_EXP: i64 = 309;
/// `2^-1075` = `5^1075 * 10^-1075`: the largest value that rounds to zero
/// (halfway to the smallest subnormal, ties to even).
const ZERO_DIGITS: &[u8] = b"24703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125";
/// Its decimal exponent: `0.2470... * 10^-323`.
const ZERO_EXP: i64 = -323;

/// What a float literal becomes in a double: `Some(true)` zero, `Some(false)`
/// finite and not zero, `None` infinite. Exact: the literal is compared with
/// the rounding boundaries digit by digit, with no float arithmetic.
pub(crate) fn float_class(int_part: &[u8], frac_part: &[u8], exp: i64) -> Option<bool> {
    // value = 0.D * 10^e with D's first digit not zero.
    let all = int_part.iter().chain(frac_part.iter());
    let lead = all.clone().take_while(|&&d| d == b'0').count();
    let mut digits: Vec<u8> = all.skip(lead).copied().collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return Some(true);
    }
    let e = exp.saturating_add(int_part.len() as i64 - lead as i64);
    let at_least = |d: &[u8], de: i64| e > de || (e == de && digits.as_slice() >= d);
    if at_least(INF_DIGITS, INF_EXP) {
        return None;
    }
    Some(!at_least(ZERO_DIGITS, ZERO_EXP) || digits.as_slice() == ZERO_DIGITS && e == ZERO_EXP)
}

#[cfg(test)]
mod tests {
    use super::float_class;

    fn class(lit: &str) -> Option<bool> {
        let (mant, exp) = match lit.find(['e', 'E']) {
            Some(i) => (&lit[..i], lit[i + 1..].parse::<i64>().unwrap()),
            None => (lit, 0),
        };
        let (i, f) = mant.split_once('.').unwrap_or((mant, ""));
        float_class(i.trim_start_matches('-').as_bytes(), f.as_bytes(), exp)
    }

    #[test]
    fn matches_rust_float_parsing_at_the_boundaries() {
        for lit in [
            "0.0",
            "-0.0",
            "0e999999",
            "1e-400",
            "1.0",
            "1e308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1E400",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "4.9e-324",
            "2.47032822920623272088e-324",
            "123.456e-5",
            "0.000000000000000000000000000001",
            "100000000000000000000000000000000e-340",
        ] {
            let f: f64 = lit.parse().unwrap();
            let want = if f.is_infinite() {
                None
            } else {
                Some(f == 0.0)
            };
            assert_eq!(class(lit), want, "{lit}");
        }
    }
}
