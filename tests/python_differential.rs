//! Differential test against a plain-Python reference of the CLI's payload
//! code (`tests/reference/cli_payload.py`).
//!
//! Inputs in the JSON form are generated from a fixed seed with a small
//! xorshift PRNG (no dependency), written one per line to a single
//! `python3 tests/reference/cli_payload.py` process, and every answer is
//! compared with [`build_snapshot_payload_json`]: the endpoint, the headers in
//! order, the body byte for byte and the idempotency key; for a refusal, the
//! kind. Well-formed inputs also go through the typed entry point, which must
//! give the same bytes.
//!
//! `TRACKER_PUBLISH_DIFF_SEED` (decimal or 0x-hex) and
//! `TRACKER_PUBLISH_DIFF_CASES` override the seed and the number of random
//! cases; a failure prints the seed and the first differing case.

mod support;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::typed::typed_input;
use tracker_publish::{
    PublishError, PublishOptions, PublishRequest, build_snapshot_payload,
    build_snapshot_payload_json,
};

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/reference/cli_payload.py"
);

const DEFAULT_SEED: u64 = 0x5EED_2026_0310_0048;
const DEFAULT_CASES: usize = 4000;

// ---------------------------------------------------------------------------
// A tiny PRNG: xorshift64*
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Never zero; mix the seed once so nearby seeds diverge.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn seed() -> u64 {
    match std::env::var("TRACKER_PUBLISH_DIFF_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("TRACKER_PUBLISH_DIFF_SEED: not a number: {s:?}"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

fn case_count(default: usize) -> usize {
    std::env::var("TRACKER_PUBLISH_DIFF_CASES")
        .ok()
        .map(|s| {
            s.trim()
                .parse()
                .expect("TRACKER_PUBLISH_DIFF_CASES: not a number")
        })
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------
// Adversarial material
// ---------------------------------------------------------------------------

/// Python's 29 white-space code points.
const PY_WHITE_SPACE: [char; 29] = [
    '\u{09}', '\u{0A}', '\u{0B}', '\u{0C}', '\u{0D}', '\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}',
    '\u{20}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}',
    '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];

/// Look like white space or are invisible, but are not Python white space.
const NOT_WHITE_SPACE: [char; 12] = [
    '\u{200B}', '\u{FEFF}', '\u{180E}', '\u{2060}', '\u{200C}', '\u{200D}', '\u{0}', '\u{1}',
    '\u{1B}', '\u{7F}', '\u{80}', '\u{9F}',
];

const SPECIAL: [char; 14] = [
    '"', '\\', '/', '\'', '@', ':', '|', '{', '}', '[', ']', ',', '#', '?',
];

const NON_ASCII: [char; 16] = [
    'é', '漢', '🙂', 'İ', 'Σ', 'ς', 'σ', 'ß', 'ẞ', 'Ω', '\u{212A}', 'ǅ', 'Ⅻ', '\u{301}',
    '\u{E000}', 'ı',
];

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

/// Greek words that put a capital sigma at, or near, a word end.
const SIGMA_WORDS: [&str; 10] = [
    "ΟΔΟΣ",
    "ΑΣ",
    "Σ",
    "ΣΑ",
    "ΟΔΟΣ ΟΔΟΣ",
    "ΑΣ'",
    "ΑΣ\u{200B}",
    "ΑΣ\u{301}",
    "ΑΣ.Β",
    "ΑΣ\u{301}Β",
];

fn rand_char(rng: &mut Rng) -> char {
    match rng.below(10) {
        0..=3 => rng.pick(ALNUM) as char,
        4 => rng.pick(&PY_WHITE_SPACE),
        5 => rng.pick(&NOT_WHITE_SPACE),
        6 => rng.pick(&SPECIAL),
        7 | 8 => rng.pick(&NON_ASCII),
        _ => char::from_u32(rng.below(0x20) as u32).unwrap(),
    }
}

/// Adversarial text of 0..max characters.
fn rand_text(rng: &mut Rng, max: usize) -> String {
    let n = rng.below(max + 1);
    let mut s = String::new();
    for _ in 0..n {
        if rng.chance(5) {
            s.push_str(rng.pick(&SIGMA_WORDS));
        } else {
            s.push(rand_char(rng));
        }
    }
    s
}

/// 0..3 white-space code points, sometimes a look-alike that is not one.
fn pad(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(4) {
        if rng.chance(10) {
            s.push(rng.pick(&NOT_WHITE_SPACE));
        } else {
            s.push(rng.pick(&PY_WHITE_SPACE));
        }
    }
    s
}

fn padded(rng: &mut Rng, core: &str) -> String {
    if rng.chance(50) {
        format!("{}{core}{}", pad(rng), pad(rng))
    } else {
        core.to_owned()
    }
}

fn blank(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(3) {
        s.push(rng.pick(&PY_WHITE_SPACE));
    }
    s
}

const PROVIDERS: [&str; 28] = [
    "jira",
    "Jira",
    "JIRA",
    "jIrA",
    "linear",
    "Linear",
    "LINEAR",
    "azure",
    "Azure",
    "AZURE",
    "azure-devops",
    "Azure-DevOps",
    "AZURE-DEVOPS",
    "azure_devops",
    "azure devops",
    "azure-",
    "beads",
    "notion",
    "GitHub",
    "JİRA",
    "İ",
    "ΟΔΟΣ",
    "ΣΑΣ",
    "STRAẞE",
    "straße",
    "jira\u{200B}",
    "\u{FEFF}linear",
    "ji ra",
];

fn provider(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => blank(rng),
        1 => rand_text(rng, 6),
        2 => {
            let w = rng.clone_pick(&SIGMA_WORDS);
            padded(rng, w)
        }
        _ => {
            let p = rng.pick(&PROVIDERS);
            padded(rng, p)
        }
    }
}

impl Rng {
    fn clone_pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn workspace(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => blank(rng),
        1 | 2 => rand_text(rng, 8),
        _ => {
            let w = rng.clone_pick(&[
                "acme.atlassian.net",
                "acme",
                "é漢🙂",
                "Acme Corp",
                "a|b",
                "None",
            ]);
            padded(rng, w)
        }
    }
}

const URLS_OK: [&str; 14] = [
    "https://example.com",
    "http://example.com",
    "HTTPS://EXAMPLE.COM",
    "HtTp://localhost:8000",
    "https://example.com/base",
    "https://example.com//a//b",
    "https://example.com/a@b",
    "http://[::1]:8080",
    "https://[2001:db8::1]",
    "https://exämple.com",
    "https://example.com:443/x?y=1",
    "https://example.com#frag",
    "http://127.0.0.1:65535",
    "https://example.com:",
];

const URLS_BAD: [&str; 20] = [
    "ftp://example.com",
    "example.com",
    "//example.com",
    "https://",
    "https:///x",
    "http://:8080",
    "https://user:pw@example.com",
    "https://user@example.com",
    "https://:pw@example.com",
    "mailto:a@example.com",
    "",
    "https://exa mple.com",
    "https://example.com\t",
    " https://example.com",
    "https://example.com:99999",
    "https://example.com:abc",
    "http://[zz]",
    "javascript:alert(1)",
    "https:example.com",
    "file:///etc/passwd",
];

fn server_url(rng: &mut Rng) -> String {
    let base = if rng.chance(85) {
        rng.clone_pick(&URLS_OK)
    } else {
        rng.clone_pick(&URLS_BAD)
    };
    let slashes = rng.clone_pick(&["", "", "/", "//", "///"]);
    format!("{base}{slashes}")
}

const TOKENS_GOOD: [&str; 5] = [
    "test-token",
    "tok",
    "abc.DEF_123~!",
    "ghp_ABCdef0123456789",
    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
];

const TOKENS_BAD: [&str; 13] = [
    " abc",
    "abc ",
    "a b",
    "a\tb",
    "a\r\nX-Evil: 1",
    "a\u{0}b",
    "a\u{7F}b",
    "tokén",
    "tok🙂",
    "\u{1C}abc",
    "\u{A0}abc",
    "\u{200B}",
    "abc\u{85}",
];

fn token_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=3 => rng.clone_pick(&TOKENS_GOOD).to_owned(),
        4 => rng.clone_pick(&TOKENS_BAD).to_owned(),
        5 | 6 => {
            let t = rng.clone_pick(&TOKENS_GOOD);
            format!("{}{t}{}", pad(rng), pad(rng))
        }
        7 => String::new(),
        8 => blank(rng),
        _ => rand_text(rng, 5),
    }
}

fn routing_value(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 | 1 => rng
            .clone_pick(&["ACME", "BETA", "abc-123", "T-1", "None"])
            .to_owned(),
        2 => {
            let v = rng.clone_pick(&["ACME", "abc-123"]);
            format!("{}{v}{}", pad(rng), pad(rng))
        }
        3 => String::new(),
        4 => blank(rng),
        5 => {
            let t = rand_text(rng, 5);
            padded(rng, &t)
        }
        _ => rand_text(rng, 5),
    }
}

// ---------------------------------------------------------------------------
// A JSON value that can also hold what serde_json cannot: repeated keys,
// lone surrogates, raw number text.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// JSON text written as is.
    Raw(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn s(x: impl Into<String>) -> J {
    J::Str(x.into())
}

fn opt_text(rng: &mut Rng, percent_null: usize, max: usize) -> J {
    if rng.chance(percent_null) {
        J::Null
    } else {
        s(rand_text(rng, max))
    }
}

/// Writes JSON text, choosing escapes and white space at random: the reader
/// must decode every spelling to the same string.
struct Writer<'r> {
    rng: &'r mut Rng,
    out: String,
}

impl Writer<'_> {
    fn ws(&mut self) {
        if self.rng.chance(4) {
            let w = self.rng.clone_pick(&[" ", "\t", "\r", "  ", " \t"]);
            self.out.push_str(w);
        }
    }

    fn hex4(&mut self, u: u32) {
        if self.rng.chance(50) {
            self.out.push_str(&format!("\\u{u:04x}"));
        } else {
            self.out.push_str(&format!("\\u{u:04X}"));
        }
    }

    fn string(&mut self, x: &str) {
        self.out.push('"');
        for c in x.chars() {
            let escape = self.rng.chance(15);
            match c {
                '"' if !escape => self.out.push_str("\\\""),
                '\\' if !escape => self.out.push_str("\\\\"),
                '\n' if !escape => self.out.push_str("\\n"),
                '\r' if !escape => self.out.push_str("\\r"),
                '\t' if !escape => self.out.push_str("\\t"),
                '\u{8}' if !escape => self.out.push_str("\\b"),
                '\u{C}' if !escape => self.out.push_str("\\f"),
                '/' if escape => self.out.push_str("\\/"),
                c if (c as u32) < 0x20 || c == '"' || c == '\\' || escape => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        self.hex4(u32::from(*unit));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, v: &J) {
        self.ws();
        match v {
            J::Null => self.out.push_str("null"),
            J::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            J::Int(n) => self.out.push_str(&n.to_string()),
            J::Str(x) => self.string(x),
            J::Raw(x) => self.out.push_str(x),
            J::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.ws();
                        self.out.push(',');
                    }
                    self.value(item);
                    self.ws();
                }
                if items.is_empty() {
                    self.ws();
                }
                self.out.push(']');
            }
            J::Obj(fields) => {
                self.out.push('{');
                for (i, (k, val)) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.string(k);
                    self.ws();
                    self.out.push(':');
                    self.value(val);
                    self.ws();
                }
                if fields.is_empty() {
                    self.ws();
                }
                self.out.push('}');
            }
        }
    }
}

/// The JSON text of `v`; the top-level object is written without trailing
/// white space, so that any strict prefix is malformed.
fn to_text(rng: &mut Rng, v: &J) -> String {
    let mut w = Writer {
        rng,
        out: String::new(),
    };
    w.value(v);
    w.out.trim_start_matches([' ', '\t', '\r']).to_owned()
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// An object of these fields, in a random order now and then (the fields are
/// evaluated before the order is drawn).
macro_rules! obj {
    ($rng:expr, $fields:expr $(,)?) => {{
        let fields = $fields;
        obj_of($rng, fields)
    }};
}

fn obj_of(rng: &mut Rng, mut fields: Vec<(&str, J)>) -> J {
    if rng.chance(20) {
        rng.shuffle(&mut fields);
    }
    J::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn string_list(rng: &mut Rng) -> J {
    J::Arr((0..rng.below(4)).map(|_| s(rand_text(rng, 5))).collect())
}

fn issue(rng: &mut Rng) -> J {
    let iref = obj!(
        rng,
        vec![
            ("system", s(rng.clone_pick(&["jira", "linear", "github"]))),
            ("workspace", s(rand_text(rng, 6))),
            ("id", s(rand_text(rng, 4))),
            ("key", opt_text(rng, 30, 6)),
            ("url", opt_text(rng, 30, 8)),
        ],
    );
    let priority = match rng.below(8) {
        0 | 1 => J::Null,
        2 => J::Int(i64::MAX),
        3 => J::Int(i64::MIN),
        4 => J::Int(rng.next_u64() as i64),
        _ => J::Int(rng.below(7) as i64 - 2),
    };
    obj!(
        rng,
        vec![
            ("ref", iref),
            ("title", s(rand_text(rng, 10))),
            ("body", opt_text(rng, 30, 20)),
            ("status", s(rand_text(rng, 5))),
            ("issue_type", s(rand_text(rng, 5))),
            ("priority", priority),
            ("assignees", string_list(rng)),
            ("labels", string_list(rng)),
            ("updated_at", opt_text(rng, 30, 8)),
        ],
    )
}

fn mapping(rng: &mut Rng) -> J {
    obj!(
        rng,
        vec![
            ("wp_id", s(rand_text(rng, 4))),
            ("system", s(rand_text(rng, 4))),
            ("workspace", s(rand_text(rng, 6))),
            ("external_id", s(rand_text(rng, 4))),
            ("external_key", opt_text(rng, 30, 4)),
            ("external_url", opt_text(rng, 30, 8)),
            ("created_at", s(rand_text(rng, 6))),
            ("updated_at", s(rand_text(rng, 6))),
        ],
    )
}

/// A map of distinct keys, in a random order.
fn string_map(rng: &mut Rng, entries: Vec<(String, String)>) -> J {
    let mut seen = Vec::new();
    let mut fields = Vec::new();
    for (k, v) in entries {
        if !seen.contains(&k) {
            seen.push(k.clone());
            fields.push((k, s(v)));
        }
    }
    rng.shuffle(&mut fields);
    J::Obj(fields)
}

fn credentials(rng: &mut Rng) -> J {
    let mut entries = Vec::new();
    for key in ["project_key", "team_id"] {
        if rng.chance(60) {
            entries.push((key.to_owned(), routing_value(rng)));
        }
    }
    for key in ["access_token", "token"] {
        if rng.chance(45) {
            entries.push((key.to_owned(), token_value(rng)));
        }
    }
    for key in ["base_url", "email", "api_token", "api_key"] {
        if rng.chance(25) {
            entries.push((key.to_owned(), rand_text(rng, 6)));
        }
    }
    if rng.chance(10) {
        entries.push((rand_text(rng, 4), rand_text(rng, 4)));
    }
    string_map(rng, entries)
}

fn owners(rng: &mut Rng) -> J {
    let mut entries = Vec::new();
    for _ in 0..rng.below(5) {
        let k = match rng.below(6) {
            0 => blank(rng),
            1 | 2 => rand_text(rng, 4),
            _ => {
                let k = rng.clone_pick(&["status", "title", "labels", "priority", "assignees"]);
                padded(rng, k)
            }
        };
        let v = match rng.below(6) {
            0 => blank(rng),
            1 | 2 => rand_text(rng, 4),
            _ => {
                let v = rng.clone_pick(&["external", "spec_kitty", "local"]);
                padded(rng, v)
            }
        };
        entries.push((k, v));
    }
    string_map(rng, entries)
}

fn input(rng: &mut Rng) -> J {
    let auth_token = match rng.below(20) {
        0..=7 => J::Null,
        8 | 9 => s(""),
        10..=14 => s(rng.clone_pick(&TOKENS_GOOD)),
        15 | 16 => s(rng.clone_pick(&TOKENS_BAD)),
        17 => {
            let t = rng.clone_pick(&TOKENS_GOOD);
            s(format!("{}{t}{}", pad(rng), pad(rng)))
        }
        _ => s(rand_text(rng, 5)),
    };
    let doctrine_mode = match rng.below(8) {
        0 => None,
        1 => Some(J::Null),
        2 => Some(s(blank(rng))),
        3 => Some(s(rand_text(rng, 6))),
        _ => {
            let m = rng.clone_pick(&["external_authoritative", "local_authoritative", "split", ""]);
            Some(s(padded(rng, m)))
        }
    };
    let checkpoint = if rng.chance(40) {
        J::Null
    } else {
        let cursor = match rng.below(5) {
            0 => J::Null,
            1 => s("None"),
            _ => s(rand_text(rng, 6)),
        };
        obj!(
            rng,
            vec![("cursor", cursor), ("updated_since", opt_text(rng, 40, 8))]
        )
    };
    let mut fields = vec![
        ("server_url", s(server_url(rng))),
        ("auth_token", auth_token),
        ("provider", s(provider(rng))),
        ("workspace", s(workspace(rng))),
    ];
    if let Some(m) = doctrine_mode {
        fields.push(("doctrine_mode", m));
    }
    fields.push(("doctrine_field_owners", owners(rng)));
    fields.push(("credentials", credentials(rng)));
    fields.push(("project_uuid", opt_text(rng, 40, 8)));
    fields.push(("project_slug", opt_text(rng, 40, 8)));
    fields.push((
        "issues",
        J::Arr((0..rng.below(4)).map(|_| issue(rng)).collect()),
    ));
    fields.push((
        "mappings",
        J::Arr((0..rng.below(4)).map(|_| mapping(rng)).collect()),
    ));
    fields.push(("checkpoint", checkpoint));
    obj_of(rng, fields)
}

// ---------------------------------------------------------------------------
// Malformed inputs: each mutation makes the input not well-formed
// ---------------------------------------------------------------------------

/// Every object inside `v` (itself included), as a path of indices.
fn object_paths(v: &J, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    match v {
        J::Obj(fields) => {
            out.push(path.clone());
            for (i, (_, val)) in fields.iter().enumerate() {
                path.push(i);
                object_paths(val, path, out);
                path.pop();
            }
        }
        J::Arr(items) => {
            for (i, val) in items.iter().enumerate() {
                path.push(i);
                object_paths(val, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'v>(v: &'v mut J, path: &[usize]) -> &'v mut J {
    let mut cur = v;
    for &i in path {
        cur = match cur {
            J::Obj(fields) => &mut fields[i].1,
            J::Arr(items) => &mut items[i],
            _ => unreachable!(),
        };
    }
    cur
}

/// True for the two string maps, whose keys are free.
fn is_string_map(root: &J, path: &[usize]) -> bool {
    let [i] = path else { return false };
    match root {
        J::Obj(fields) => matches!(
            fields[*i].0.as_str(),
            "credentials" | "doctrine_field_owners"
        ),
        _ => false,
    }
}

const LONE_SURROGATES: [&str; 5] = [
    r#""\ud800""#,
    r#""a\udfffb""#,
    r#""\udc00""#,
    r#""\ud83d x""#,
    r#""\ud800\u0041""#,
];

fn mutate(rng: &mut Rng, root: &mut J) -> &'static str {
    let mut paths = Vec::new();
    object_paths(root, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths);
    let free_keys = is_string_map(root, &path);
    let J::Obj(fields) = at(root, &path) else {
        unreachable!()
    };
    match rng.below(7) {
        // A missing field (doctrine_mode may be missing; map entries may be dropped).
        0 if !fields.is_empty() && !free_keys => {
            let i = rng.below(fields.len());
            if fields[i].0 == "doctrine_mode" {
                fields.push(("unknown_field".into(), J::Null));
                return "unknown field";
            }
            fields.remove(i);
            "missing field"
        }
        1 if !free_keys => {
            let i = rng.below(fields.len() + 1);
            let name = rng.clone_pick(&["extra", "Provider", "title ", "", "ref2"]);
            fields.insert(i, (name.into(), J::Null));
            "unknown field"
        }
        // A repeated key, with the same or another value.
        2 if !fields.is_empty() => {
            let i = rng.below(fields.len());
            let dup = if rng.chance(50) {
                fields[i].clone()
            } else {
                (fields[i].0.clone(), J::Null)
            };
            let j = rng.below(fields.len() + 1);
            fields.insert(j, dup);
            "repeated key"
        }
        // A value of the wrong type.
        3 if !fields.is_empty() => {
            let i = rng.below(fields.len());
            let wrong = match (&fields[i].1, rng.below(4)) {
                // priority is an integer or null: anything else is wrong.
                (_, n) if fields[i].0 == "priority" && !free_keys => match n {
                    0 => J::Raw("2.5".into()),
                    1 => s("3"),
                    2 => J::Bool(true),
                    _ => J::Raw(rng.clone_pick(&["1.0", "1e3", "-0.0", "[1]", "{}"]).into()),
                },
                (J::Str(_), 0) => J::Int(5),
                (J::Str(_), 1) => J::Bool(true),
                (J::Arr(_), _) => J::Obj(Vec::new()),
                (J::Obj(_), _) => J::Arr(Vec::new()),
                (J::Null, _) => J::Int(0),
                _ => J::Raw(rng.clone_pick(&["1.0", "1e3", "[1]", "{}", "false"]).into()),
            };
            fields[i].1 = wrong;
            "wrong type"
        }
        // A lone surrogate in a string value (or key).
        4 if !fields.is_empty() => {
            let i = rng.below(fields.len());
            let lone = J::Raw(rng.pick(&LONE_SURROGATES).into());
            if free_keys && rng.chance(30) {
                // In a key: written raw, so spell the whole member.
                let key = rng.pick(&LONE_SURROGATES);
                fields[i] = (String::new(), J::Raw(format!("0,{key}:\"v\"")));
                // The member above is `"":0,"\ud800":"v"` - "" is a free key.
                return "lone surrogate";
            }
            fields[i].1 = lone;
            "lone surrogate"
        }
        // Not JSON at all in one place.
        5 if !fields.is_empty() => {
            let i = rng.below(fields.len());
            fields[i].1 = J::Raw(
                rng.clone_pick(&[
                    "NaN",
                    "Infinity",
                    "undefined",
                    "'x'",
                    "nul",
                    "01",
                    "-",
                    "\"\\x\"",
                ])
                .into(),
            );
            "malformed value"
        }
        _ => "truncated",
    }
}

// ---------------------------------------------------------------------------
// Running both sides
// ---------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Outcome {
    Request {
        endpoint: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        idempotency_key: String,
    },
    Error(String),
}

impl Outcome {
    fn of(r: Result<PublishRequest, PublishError>) -> Outcome {
        match r {
            Ok(r) => Outcome::Request {
                endpoint: r.endpoint,
                headers: r.headers,
                body: r.body,
                idempotency_key: r.idempotency_key,
            },
            Err(e) => Outcome::Error(e.kind().as_str().to_owned()),
        }
    }

    fn from_python(line: &Value) -> Outcome {
        if let Some(kind) = line.get("error") {
            return Outcome::Error(kind.as_str().expect("error kind").to_owned());
        }
        let str_of = |v: &Value| v.as_str().expect("a string").to_owned();
        Outcome::Request {
            endpoint: str_of(&line["endpoint"]),
            headers: line["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| (str_of(&h[0]), str_of(&h[1])))
                .collect(),
            body: str_of(&line["body"]).into_bytes(),
            idempotency_key: str_of(&line["idempotency_key"]),
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Error(kind) => format!("refusal {kind}"),
            Outcome::Request {
                endpoint,
                headers,
                body,
                idempotency_key,
            } => format!(
                "request\n    endpoint: {endpoint:?}\n    headers: {headers:?}\n    body: {:?}\n    idempotency_key: {idempotency_key}",
                String::from_utf8_lossy(body)
            ),
        }
    }
}

/// Runs the Python reference once over all inputs.
fn run_python(lines: &[String]) -> Vec<Outcome> {
    let mut child = Command::new("python3")
        .arg("-I")
        .arg(REFERENCE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start python3 (needed for this test): {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.bytes().chain([b'\n']))
        .collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&input).expect("writing to python3");
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{REFERENCE} failed ({status}):\n{stderr}");
    let out: Vec<Outcome> = stdout
        .lines()
        .map(|l| Outcome::from_python(&serde_json::from_str(l).expect("python3 wrote JSON")))
        .collect();
    assert_eq!(
        out.len(),
        lines.len(),
        "python3 answered {} of {} inputs:\n{stderr}",
        out.len(),
        lines.len()
    );
    out
}

/// One generated case.
struct Case {
    text: String,
    /// What made it malformed, if anything.
    mutation: Option<&'static str>,
}

/// Compares every case with the reference; panics with the seed and the first
/// differing case. Returns the number of requests and of each refusal kind.
fn compare(label: &str, seed: u64, cases: &[Case]) -> std::collections::BTreeMap<String, usize> {
    let lines: Vec<String> = cases.iter().map(|c| c.text.clone()).collect();
    let python = run_python(&lines);
    let options = PublishOptions::default();
    let mut tally = std::collections::BTreeMap::new();
    let mut first: Option<String> = None;
    let mut others: Vec<String> = Vec::new();
    let mut differing = 0;
    for (i, (case, py)) in cases.iter().zip(&python).enumerate() {
        let rust = Outcome::of(build_snapshot_payload_json(&case.text, &options));
        let mut problem = None;
        if rust != *py {
            problem = Some(format!(
                "python:\n  {}\nrust:\n  {}",
                py.describe(),
                rust.describe()
            ));
        } else if case.mutation.is_none() {
            // Well-formed: the typed entry point must give the same.
            let value: Value =
                serde_json::from_str(&case.text).expect("a well-formed case is JSON");
            let typed = Outcome::of(build_snapshot_payload(&typed_input(&value), &options));
            if typed != rust {
                problem = Some(format!(
                    "typed entry point:\n  {}\njson entry point:\n  {}",
                    typed.describe(),
                    rust.describe()
                ));
            }
        } else if !matches!(&rust, Outcome::Error(k) if k == "invalid-input") {
            problem = Some(format!(
                "a malformed input ({}) was not refused as invalid-input:\n  {}",
                case.mutation.unwrap(),
                rust.describe()
            ));
        }
        if let Some(p) = problem {
            differing += 1;
            if first.is_none() {
                first = Some(format!(
                    "case #{i} (mutation: {:?})\ninput: {:?}\n{p}",
                    case.mutation, case.text
                ));
            } else if others.len() < 10 {
                let summary = |o: &Outcome| match o {
                    Outcome::Error(kind) => kind.clone(),
                    Outcome::Request { .. } => "request".to_owned(),
                };
                others.push(format!(
                    "  case #{i}: python {}, rust {}; input {}",
                    summary(py),
                    summary(&rust),
                    shorten(&case.text)
                ));
            }
        }
        let key = match &rust {
            Outcome::Request { .. } => "request".to_owned(),
            Outcome::Error(k) => k.clone(),
        };
        *tally.entry(key).or_insert(0) += 1;
    }
    if let Some(first) = first {
        panic!(
            "{label}: {differing} of {} cases differ (seed {seed:#x}; rerun with TRACKER_PUBLISH_DIFF_SEED={seed:#x}).\nfirst differing {first}\nmore differing cases (at most 10):\n{}",
            cases.len(),
            others.join("\n")
        );
    }
    eprintln!(
        "{label}: {} cases agree (seed {seed:#x}): {tally:?}",
        cases.len()
    );
    tally
}

/// At most 400 characters of a text, for failure messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{:?}...", &text[..i]),
        None => format!("{text:?}"),
    }
}

fn random_cases(rng: &mut Rng, n: usize, malformed_percent: usize) -> Vec<Case> {
    (0..n)
        .map(|_| {
            let mut v = input(rng);
            if rng.chance(malformed_percent) {
                let mutation = mutate(rng, &mut v);
                let mut text = to_text(rng, &v);
                if mutation == "truncated" {
                    let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
                    let cut = rng.pick(&cuts);
                    text.truncate(cut);
                }
                Case {
                    text,
                    mutation: Some(mutation),
                }
            } else {
                Case {
                    text: to_text(rng, &v),
                    mutation: None,
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn python_reference_agrees_on_random_inputs() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let cases = random_cases(&mut rng, case_count(DEFAULT_CASES), 8);
    let tally = compare("random inputs", seed, &cases);
    // The generator must reach every outcome, or the comparison proves little.
    let total = cases.len();
    let requests = tally.get("request").copied().unwrap_or(0);
    assert!(
        requests * 3 >= total,
        "only {requests} of {total} cases were requests: {tally:?}"
    );
    for kind in [
        "not-configured",
        "invalid-server-url",
        "invalid-auth-token",
        "invalid-input",
    ] {
        assert!(
            tally.get(kind).copied().unwrap_or(0) * 100 >= total,
            "too few {kind}: {tally:?}"
        );
    }
}

#[test]
fn python_reference_agrees_on_malformed_inputs() {
    let seed = seed() ^ 0xBAD_1A9D;
    let mut rng = Rng::new(seed);
    let cases = random_cases(&mut rng, case_count(DEFAULT_CASES) / 2, 100);
    let mut by_mutation = std::collections::BTreeMap::new();
    for c in &cases {
        *by_mutation.entry(c.mutation.unwrap()).or_insert(0usize) += 1;
    }
    assert!(
        by_mutation.len() >= 7,
        "mutations not all reached: {by_mutation:?}"
    );
    compare("malformed inputs", seed, &cases);
}

/// Control characters, U+007F..U+00A0, Python white space and its look-alikes,
/// URL and JSON specials, non-ASCII.
fn interesting_chars() -> Vec<char> {
    let mut chars: Vec<char> = (0u32..0x20)
        .chain(0x7F..=0xA0)
        .filter_map(char::from_u32)
        .collect();
    chars.extend(PY_WHITE_SPACE);
    chars.extend(NOT_WHITE_SPACE);
    chars.extend(SPECIAL);
    chars.extend(NON_ASCII);
    chars.sort_unstable();
    chars.dedup();
    chars
}

/// Where a character goes: alone, around, inside, around a sigma word.
fn forms(c: char) -> [String; 4] {
    [
        format!("{c}"),
        format!("{c}{c}x{c}"),
        format!("x{c}y"),
        format!("{c}ΟΔΟΣ{c}"),
    ]
}

type Fields = Vec<(String, J)>;

fn base_fields(provider: &str) -> Fields {
    vec![
        ("server_url".into(), s("https://example.com")),
        ("auth_token".into(), J::Null),
        ("provider".into(), s(provider)),
        ("workspace".into(), s("acme")),
        ("doctrine_mode".into(), J::Null),
        ("doctrine_field_owners".into(), J::Obj(Vec::new())),
        ("credentials".into(), J::Obj(Vec::new())),
        ("project_uuid".into(), J::Null),
        ("project_slug".into(), J::Null),
        ("issues".into(), J::Arr(Vec::new())),
        ("mappings".into(), J::Arr(Vec::new())),
        ("checkpoint".into(), J::Null),
    ]
}

fn set(fields: &mut Fields, key: &str, v: J) {
    fields.iter_mut().find(|(k, _)| k == key).unwrap().1 = v;
}

fn creds(pairs: &[(&str, String)]) -> J {
    J::Obj(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), s(v.clone())))
            .collect(),
    )
}

/// Every interesting character, at the edge and inside every field that a
/// rule reads: provider, workspace, doctrine mode, field owners, routing
/// credentials, each token source, and stored strings.
#[test]
fn python_reference_agrees_on_every_interesting_character_in_every_field() {
    let mut rng = Rng::new(seed());
    let mut cases = Vec::new();
    for c in interesting_chars() {
        for form in forms(c) {
            let mut variants: Vec<Fields> = Vec::new();
            for p in ["jira", "Linear", "azure", "AZURE-DEVOPS"] {
                variants.push(base_fields(&form.replace('x', p)));
            }
            let mut f = base_fields("jira");
            set(&mut f, "workspace", s(form.replace('x', "acme")));
            variants.push(f);
            let mut f = base_fields("jira");
            set(&mut f, "doctrine_mode", s(form.replace('x', "split")));
            variants.push(f);
            let mut f = base_fields("jira");
            set(
                &mut f,
                "doctrine_field_owners",
                J::Obj(vec![
                    (form.replace('x', "k"), s("v")),
                    ("k2".into(), s(form.replace('x', "v"))),
                    ("k3".into(), s("v3")),
                ]),
            );
            variants.push(f);
            let mut f = base_fields("jira");
            set(
                &mut f,
                "credentials",
                creds(&[("project_key", form.replace('x', "ACME"))]),
            );
            variants.push(f);
            let mut f = base_fields("linear");
            set(
                &mut f,
                "credentials",
                creds(&[("team_id", form.replace('x', "T-1"))]),
            );
            variants.push(f);
            let mut f = base_fields("jira");
            set(&mut f, "auth_token", s(form.replace('x', "tok")));
            variants.push(f);
            let mut f = base_fields("jira");
            set(
                &mut f,
                "credentials",
                creds(&[
                    ("access_token", form.replace('x', "acc")),
                    ("token", "tok".into()),
                ]),
            );
            variants.push(f);
            let mut f = base_fields("jira");
            set(&mut f, "auth_token", s(""));
            set(
                &mut f,
                "credentials",
                creds(&[("token", form.replace('x', "tok"))]),
            );
            variants.push(f);
            let mut f = base_fields("jira");
            set(&mut f, "project_slug", s(form.clone()));
            set(
                &mut f,
                "checkpoint",
                J::Obj(vec![
                    ("cursor".into(), s(form.clone())),
                    ("updated_since".into(), J::Null),
                ]),
            );
            variants.push(f);
            for v in variants {
                cases.push(Case {
                    text: to_text(&mut rng, &J::Obj(v)),
                    mutation: None,
                });
            }
        }
    }
    compare("every character in every field", seed(), &cases);
}

/// Every interesting character in the server URL: at its start, around it,
/// and inside the host (`https://example.com{c}y`).
#[test]
fn python_reference_agrees_on_every_interesting_character_in_server_url() {
    let mut rng = Rng::new(seed());
    let mut cases = Vec::new();
    for c in interesting_chars() {
        for form in forms(c) {
            let mut f = base_fields("jira");
            set(
                &mut f,
                "server_url",
                s(form.replace('x', "https://example.com")),
            );
            cases.push(Case {
                text: to_text(&mut rng, &J::Obj(f)),
                mutation: None,
            });
        }
    }
    compare("every character in the server URL", seed(), &cases);
}

#[test]
fn python_reference_agrees_on_the_shared_vectors() {
    // The reference itself is checked against the vectors' expectations, so a
    // disagreement above points at the component, not at the reference.
    let cases = support::vectors::cases();
    let lines: Vec<String> = cases.iter().map(|c| c.input_json.clone()).collect();
    let python = run_python(&lines);
    for (case, py) in cases.iter().zip(python) {
        let got = match py {
            Outcome::Request {
                endpoint,
                headers,
                body,
                idempotency_key,
            } => support::vectors::Outcome::Request {
                endpoint,
                headers,
                body,
                idempotency_key,
            },
            Outcome::Error(kind) => support::vectors::Outcome::Error {
                kind,
                message: "(python reference)".into(),
            },
        };
        if let Err(diff) = support::vectors::check(case, &got) {
            panic!(
                "the Python reference disagrees with vector {:?}:\n{diff}",
                case.name
            );
        }
    }
}
