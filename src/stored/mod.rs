//! A tracker store's rows as the CLI turns them into the input
//! (project-state.md): every host that reads a store shares these rules, so
//! none of them re-implements the CLI's conversions.
//!
//! The CLI loads each stored issue into its tracker model and writes it out
//! again; [`issue_from_stored_row`] gives the same fields, and refuses
//! (`invalid-store-row`) where the CLI would crash, stop, or publish a
//! garbled value.

mod isdigit_table;
mod timestamp;

use std::borrow::Cow;

use crate::error::Piece::{Num, Quoted, Str};
use crate::error::{ErrorKind, PublishError, msg};
use crate::input::{IssueRef, IssueSnapshot, SnapshotInput, Text, lookup};
use crate::json::read_value;
use crate::json::value::Value;
use crate::limits;
use crate::normalize::{is_blank, py_strip};

pub use timestamp::python_isoformat;

/// The statuses the tracker model knows; anything else is published as `todo`.
const STATUSES: [&str; 6] = [
    "todo",
    "in_progress",
    "in_review",
    "blocked",
    "done",
    "canceled",
];
/// The issue types it knows; anything else is `task`.
const ISSUE_TYPES: [&str; 6] = ["epic", "story", "task", "bug", "chore", "subtask"];

/// A stored timestamp (`updated_at` of an issue, `updated_since` of the
/// checkpoint) as the CLI publishes it: Python's `fromisoformat(...)
/// .isoformat()` when the text is not blank and Python parses it, else none.
pub fn stored_timestamp(value: Option<&str>) -> Option<String> {
    value.filter(|v| !is_blank(v)).and_then(python_isoformat)
}

/// One `tracker_issues` row (its `identity` and `payload` text) as the issue
/// snapshot the CLI publishes, or `invalid-store-row` naming the row and field.
pub fn issue_from_stored_row<'a>(
    identity: &str,
    payload: &'a str,
) -> Result<IssueSnapshot<'a>, PublishError> {
    let row_err = |field: &str, what: &str| {
        PublishError::new(
            ErrorKind::InvalidStoreRow,
            msg(&[
                Str("tracker_issues row "),
                Quoted(identity),
                Str(": payload"),
                Str(if field.is_empty() { "" } else { "." }),
                Str(field),
                Str(": "),
                Str(what),
            ]),
        )
    };
    let value = read_value(payload).map_err(|e| {
        let kind = match e.kind() {
            ErrorKind::TooLarge => ErrorKind::TooLarge,
            _ => ErrorKind::InvalidStoreRow,
        };
        // The reader's message starts with the path inside the value.
        let inner = e.message().strip_prefix("input: ").unwrap_or(e.message());
        PublishError::new(
            kind,
            msg(&[
                Str("tracker_issues row "),
                Quoted(identity),
                Str(": payload"),
                Str(if inner.starts_with('[') { "" } else { "." }),
                Str(inner),
            ]),
        )
    })?;
    // The strings the snapshot keeps are moved out of the row's tree, not
    // copied (an escaped body is decoded once, and only once).
    let Value::Object(mut pairs) = value else {
        return Err(row_err("", "expected a JSON object"));
    };

    let mut r = match take(&mut pairs, "ref") {
        Some(Value::Object(r)) => r,
        Some(_) => return Err(row_err("ref", "expected an object")),
        None => return Err(row_err("ref", "missing field")),
    };
    let mut part =
        |name: &str| ref_part(take(&mut r, name)).map_err(|w| row_err(&dotted("ref", name), w));
    let (system, workspace, id) = (part("system")?, part("workspace")?, part("id")?);
    let mut opt =
        |name: &str| opt_text(take(&mut r, name)).map_err(|w| row_err(&dotted("ref", name), w));
    let issue_ref = IssueRef {
        system,
        workspace,
        id,
        key: opt("key")?,
        url: opt("url")?,
    };

    let title = match take(&mut pairs, "title") {
        None | Some(Value::Null) => Cow::Borrowed("Untitled"),
        Some(Value::Str(s)) if s.is_empty() => Cow::Borrowed("Untitled"),
        Some(Value::Str(s)) if is_blank(&s) => {
            return Err(row_err(
                "title",
                "white space only (the tracker model refuses it)",
            ));
        }
        Some(Value::Str(s)) => s,
        Some(v) => return Err(row_err("title", &not_faithful(&v))),
    };
    let body = opt_text(take(&mut pairs, "body")).map_err(|w| row_err("body", w))?;
    let assignees = text_list(take(&mut pairs, "assignees"))
        .map_err(|(f, w)| row_err(&index("assignees", f), &w))?;
    let labels =
        text_list(take(&mut pairs, "labels")).map_err(|(f, w)| row_err(&index("labels", f), &w))?;
    let value = Value::Object(pairs);
    let field = |name: &str| value.get(name);
    let status = choice(field("status"), &STATUSES, "todo");
    let issue_type = choice(field("issue_type"), &ISSUE_TYPES, "task");
    let priority = priority(field("priority")).map_err(|w| row_err("priority", w))?;
    let updated_at = match field("updated_at") {
        Some(Value::Str(s)) => stored_timestamp(Some(s)).map(Cow::Owned),
        _ => None,
    };

    // Not published, but the tracker model validates them.
    if let Some(p @ Value::Object(_)) = field("parent") {
        check_ref(p).map_err(|(f, w)| row_err(&dotted("parent", f), w))?;
    }
    if let Some(Value::Array(links)) = field("links") {
        for (i, link) in links.iter().enumerate() {
            if let Some(t @ Value::Object(_)) = link.get("target") {
                check_ref(t).map_err(|(f, w)| {
                    row_err(&dotted(&index("links", Some(i)), &dotted("target", f)), w)
                })?;
            }
        }
    }

    Ok(IssueSnapshot {
        r#ref: issue_ref,
        title,
        body,
        status,
        issue_type,
        priority,
        assignees,
        labels,
        updated_at,
    })
}

/// The value of `key` (the last one, as a Python dict keeps it), moved out
/// of the object; `None` when missing.
fn take<'a>(pairs: &mut [(Text<'a>, Value<'a>)], key: &str) -> Option<Value<'a>> {
    pairs
        .iter_mut()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| core::mem::replace(v, Value::Null))
}

fn dotted(a: &str, b: &str) -> String {
    msg(&[Str(a), Str("."), Str(b)])
}

fn index(name: &str, i: Option<usize>) -> String {
    match i {
        Some(i) => msg(&[Str(name), Str("["), Num(i), Str("]")]),
        None => name.into(),
    }
}

#[cold]
fn not_faithful(v: &Value<'_>) -> String {
    msg(&[
        Str("found "),
        Str(v.type_name()),
        Str(
            ", which the CLI would publish as its Python str(); only a string is published faithfully",
        ),
    ])
}

/// `ref.system`, `ref.workspace`, `ref.id`: a string that is not blank, or a
/// non-zero integer as its decimal text.
fn ref_part(v: Option<Value<'_>>) -> Result<Text<'_>, &'static str> {
    match v {
        None => Err("missing field"),
        Some(Value::Str(s)) if is_blank(&s) => Err("empty or white space only"),
        Some(Value::Str(s)) => Ok(s),
        Some(Value::Int(t)) if !matches!(t, "0" | "-0") => Ok(Cow::Borrowed(t)),
        Some(v) if !v.truthy() => Err("null, false, 0 or empty (the tracker model refuses it)"),
        Some(_) => Err(
            "expected a string or a non-zero integer (the CLI would publish the Python str() of this)",
        ),
    }
}

/// `ref.key`, `ref.url`, `body`: a string, an integer as its text, or null.
fn opt_text(v: Option<Value<'_>>) -> Result<Option<Text<'_>>, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(Value::Int(t)) => Ok(Some(int_text(t))),
        Some(_) => Err(
            "expected a string, an integer or null (the CLI would publish the Python str() of this)",
        ),
    }
}

/// Python's `str()` of a JSON integer: the text, but `-0` is `0`.
fn int_text(t: &str) -> Text<'_> {
    if t == "-0" {
        Cow::Borrowed("0")
    } else {
        Cow::Borrowed(t)
    }
}

/// `status`, `issue_type`: the value when it is one the model knows.
fn choice<'a>(v: Option<&Value<'a>>, known: &[&'static str], default: &'static str) -> Text<'a> {
    match v {
        Some(Value::Str(s)) => Cow::Borrowed(
            known
                .iter()
                .find(|k| **k == s.as_ref())
                .copied()
                .unwrap_or(default),
        ),
        _ => Cow::Borrowed(default),
    }
}

/// `priority`: an integer 0 to 4, a string of ASCII digits read as one, else
/// null; refused where the CLI stops, reads a boolean as 1/0, or reads
/// non-ASCII digits (some it converts, some it crashes on).
fn priority(v: Option<&Value<'_>>) -> Result<Option<i64>, &'static str> {
    const RANGE: &str = "outside 0 to 4 (the tracker model refuses it)";
    let digits = match v {
        Some(Value::Bool(_)) => return Err("a boolean (the CLI would publish it as 1 or 0)"),
        Some(Value::Int(t)) => t.trim_start_matches('-'),
        Some(Value::Str(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.as_ref(),
        Some(Value::Str(s)) if !s.is_empty() && s.chars().all(py_isdigit) => {
            return Err("digits other than ASCII 0-9 (the CLI reads some and crashes on others)");
        }
        _ => return Ok(None),
    };
    let negative = matches!(v, Some(Value::Int(t)) if t.starts_with('-'));
    let significant = digits.trim_start_matches('0');
    match significant.len() {
        0 => Ok(Some(0)),
        1 if !negative && significant <= "4" => {
            Ok(Some(i64::from(significant.as_bytes()[0] - b'0')))
        }
        _ => Err(RANGE),
    }
}

/// Python's `str.isdigit` for one character.
fn py_isdigit(c: char) -> bool {
    let c = c as u32;
    if c < 0x80 {
        return (0x30..=0x39).contains(&c);
    }
    isdigit_table::NON_ASCII_DIGITS
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                core::cmp::Ordering::Less
            } else if lo > c {
                core::cmp::Ordering::Greater
            } else {
                core::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `assignees`, `labels`: missing is empty; a list of strings and integers.
fn text_list(v: Option<Value<'_>>) -> Result<Vec<Text<'_>>, (Option<usize>, String)> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Str(s) => Ok(s),
                Value::Int(t) => Ok(int_text(t)),
                other => Err((Some(i), not_faithful(&other))),
            })
            .collect(),
        Some(other) => Err((
            None,
            msg(&[
                Str("expected a list, found "),
                Str(other.type_name()),
                Str(" (the CLI would crash, or split a string into characters)"),
            ]),
        )),
    }
}

/// `parent`, `links[].target`: the tracker model requires `system`,
/// `workspace` and `id` to be truthy and not blank.
fn check_ref(r: &Value<'_>) -> Result<(), (&'static str, &'static str)> {
    for name in ["system", "workspace", "id"] {
        match r.get(name) {
            Some(Value::Str(s)) if !is_blank(s) => {}
            Some(v) if v.truthy() && !matches!(v, Value::Str(_)) => {}
            _ => {
                return Err((
                    name,
                    "missing, null, false, 0, empty or blank (the tracker model refuses it)",
                ));
            }
        }
    }
    Ok(())
}

/// Where a project's tracker store lives: `~/.spec-kitty/trackers/<scope>.db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerScope {
    /// `{provider}|{workspace}|{server}|{user}|{team}`, each part stripped
    /// and lower-cased (it names the store in messages; it holds no secret).
    pub identity: String,
    /// The first 16 hex characters of the SHA-256 of `identity`.
    pub scope: String,
}

/// The store scope of project-state.md: `provider` as the config holds it
/// (stripped, case kept, no alias), `workspace`, and the provider's
/// credentials (an integer 0 already made `""` by the host, as Python's `or`
/// treats it).
pub fn tracker_scope<K: AsRef<str>, V: AsRef<str>>(
    provider: &str,
    workspace: &str,
    credentials: &[(K, V)],
) -> TrackerScope {
    let first = |a: &str, b: &str| {
        lookup(credentials, a)
            .filter(|v| !v.is_empty())
            .or_else(|| lookup(credentials, b).filter(|v| !v.is_empty()))
    };
    let part = |v: Option<&str>, default: &str| {
        crate::lowercase::to_lowercase(py_strip(v.filter(|v| !v.is_empty()).unwrap_or(default)))
    };
    let identity = [
        part(Some(provider), ""),
        part(Some(workspace), ""),
        part(first("server_url", "base_url"), "local"),
        part(first("username", "email"), "anonymous"),
        part(lookup(credentials, "team_slug"), "no-team"),
    ]
    .join("|");
    use sha2::Digest;
    let digest = sha2::Sha256::digest(identity.as_bytes());
    let mut scope = hex::encode(digest);
    scope.truncate(16);
    TrackerScope { identity, scope }
}

/// One `tracker_issues` row as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredIssueRow<'a> {
    /// The `identity` column, named in refusals.
    pub identity: Text<'a>,
    /// The `payload` column: the issue as JSON text.
    pub payload: Text<'a>,
}

/// The input from a store: `base` with its `issues` taken from `rows` (in
/// the given order, the store's `ORDER BY identity`) and its checkpoint's
/// `updated_since` re-written as the CLI does. `base.issues` must be empty.
pub fn snapshot_from_store<'a>(
    mut base: SnapshotInput<'a>,
    rows: &'a [StoredIssueRow<'a>],
) -> Result<SnapshotInput<'a>, PublishError> {
    if !base.issues.is_empty() {
        return Err(PublishError::invalid_input(
            "issues",
            "must be empty when the issues come from stored rows",
        ));
    }
    if rows.len() > limits::MAX_ISSUES {
        return Err(PublishError::new(
            ErrorKind::TooLarge,
            msg(&[
                Str("tracker_issues: more than "),
                Num(limits::MAX_ISSUES),
                Str(" rows is over the limit (MAX_ISSUES)"),
            ]),
        ));
    }
    base.issues = rows
        .iter()
        .map(|r| issue_from_stored_row(&r.identity, &r.payload))
        .collect::<Result<_, _>>()?;
    if let Some(c) = base.checkpoint.as_mut() {
        c.updated_since = stored_timestamp(c.updated_since.as_deref()).map(Cow::Owned);
    }
    Ok(base)
}
