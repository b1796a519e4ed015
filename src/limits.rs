//! Documented limits, enforced before work is done.
//!
//! Each is far above a real project (100,000 issues with long bodies pass)
//! and low enough that a hostile input cannot make a host allocate without
//! bound. An input over a limit is refused as `too-large`, naming the limit.

use crate::error::Piece::{Debug, Num, Str};
use crate::error::{ErrorKind, Piece, PublishError, msg, push};
use crate::input::{SnapshotInput, Text};

/// Largest JSON form of an input, in bytes (256 MiB).
pub const MAX_INPUT_BYTES: usize = 256 << 20;
/// Most issues in one snapshot.
pub const MAX_ISSUES: usize = 1_000_000;
/// Most mapping rows in one snapshot.
pub const MAX_MAPPINGS: usize = 1_000_000;
/// Longest single string (a title, a body, a credential), in UTF-8 bytes (4 MiB).
pub const MAX_STRING_BYTES: usize = 4 << 20;
/// Most entries in `credentials` or `doctrine_field_owners`.
pub const MAX_MAP_ENTRIES: usize = 10_000;
/// Most items in one `assignees` or `labels` list.
pub const MAX_LIST_ITEMS: usize = 10_000;
/// Deepest nesting of arrays and objects in a stored issue row (Python's
/// own parser gives up near 1,000; the input form's depth is fixed by its
/// schema).
pub const MAX_NESTING_DEPTH: usize = 512;

/// Where a checked value sits, rendered only when a limit is exceeded.
#[derive(Clone, Copy)]
enum At<'p> {
    /// A top-level field or a fixed path: `server_url`, `checkpoint.cursor`.
    Field(&'p str),
    /// A key of a map: `credentials key`.
    MapKey(&'p str),
    /// A value of a map: `credentials["project_key"]`.
    MapValue(&'p str, &'p str),
    /// A field of a row: `issues[3].title`.
    Row(&'p str, usize, &'p str),
    /// An item of a list in a row: `issues[3].labels[0]`.
    Item(&'p str, usize, &'p str, usize),
}

impl At<'_> {
    fn push_to(self, s: &mut String) {
        let pieces: [Piece<'_>; 6] = match self {
            At::Field(f) => [Str(f), Str(""), Str(""), Str(""), Str(""), Str("")],
            At::MapKey(name) => [Str(name), Str(" key"), Str(""), Str(""), Str(""), Str("")],
            At::MapValue(name, key) => {
                [Str(name), Str("["), Debug(key), Str("]"), Str(""), Str("")]
            }
            At::Row(rows, i, f) => [Str(rows), Str("["), Num(i), Str("]."), Str(f), Str("")],
            At::Item(rows, i, f, _) => [Str(rows), Str("["), Num(i), Str("]."), Str(f), Str("[")],
        };
        for p in pieces {
            push(s, p);
        }
        if let At::Item(_, _, _, j) = self {
            push(s, Num(j));
            push(s, Str("]"));
        }
    }
}

/// `string of {len} bytes is over the limit of ... bytes (MAX_STRING_BYTES)`.
pub(crate) fn string_over_limit(len: usize) -> String {
    msg(&[
        Str("string of "),
        Num(len),
        Str(" bytes is over the limit of "),
        Num(MAX_STRING_BYTES),
        Str(" bytes (MAX_STRING_BYTES)"),
    ])
}

#[cold]
#[inline(never)]
fn string_too_large(at: At<'_>, len: usize) -> PublishError {
    let mut s = String::new();
    at.push_to(&mut s);
    push(&mut s, Str(": "));
    push(&mut s, Str(&string_over_limit(len)));
    PublishError::new(ErrorKind::TooLarge, s)
}

#[cold]
#[inline(never)]
fn count_too_large(at: At<'_>, n: usize, max: usize, name: &str) -> PublishError {
    let mut s = String::new();
    at.push_to(&mut s);
    for p in [
        Str(": "),
        Num(n),
        Str(" items is over the limit of "),
        Num(max),
        Str(" ("),
        Str(name),
        Str(")"),
    ] {
        push(&mut s, p);
    }
    PublishError::new(ErrorKind::TooLarge, s)
}

#[inline]
fn check_str(at: At<'_>, s: &str) -> Result<(), PublishError> {
    if s.len() > MAX_STRING_BYTES {
        return Err(string_too_large(at, s.len()));
    }
    Ok(())
}

#[inline]
fn check_count(at: At<'_>, n: usize, max: usize, name: &str) -> Result<(), PublishError> {
    if n > max {
        return Err(count_too_large(at, n, max, name));
    }
    Ok(())
}

#[inline]
fn check_opt(at: At<'_>, s: &Option<Text<'_>>) -> Result<(), PublishError> {
    s.as_deref().map_or(Ok(()), |s| check_str(at, s))
}

/// Checks a typed input against every limit. The JSON reader checks the same
/// limits as it reads, so an over-large JSON input is refused early.
pub fn check(input: &SnapshotInput<'_>) -> Result<(), PublishError> {
    check_str(At::Field("server_url"), &input.server_url)?;
    check_opt(At::Field("auth_token"), &input.auth_token)?;
    check_str(At::Field("provider"), &input.provider)?;
    check_str(At::Field("workspace"), &input.workspace)?;
    check_opt(At::Field("doctrine_mode"), &input.doctrine_mode)?;
    check_opt(At::Field("project_uuid"), &input.project_uuid)?;
    check_opt(At::Field("project_slug"), &input.project_slug)?;
    for (name, pairs) in [
        ("doctrine_field_owners", &input.doctrine_field_owners),
        ("credentials", &input.credentials),
    ] {
        check_count(
            At::Field(name),
            pairs.len(),
            MAX_MAP_ENTRIES,
            "MAX_MAP_ENTRIES",
        )?;
        for (k, v) in pairs {
            check_str(At::MapKey(name), k)?;
            check_str(At::MapValue(name, k), v)?;
        }
    }
    check_count(
        At::Field("issues"),
        input.issues.len(),
        MAX_ISSUES,
        "MAX_ISSUES",
    )?;
    check_count(
        At::Field("mappings"),
        input.mappings.len(),
        MAX_MAPPINGS,
        "MAX_MAPPINGS",
    )?;
    for (i, issue) in input.issues.iter().enumerate() {
        let r = &issue.r#ref;
        for (f, s) in [
            ("ref.system", &r.system),
            ("ref.workspace", &r.workspace),
            ("ref.id", &r.id),
        ] {
            check_str(At::Row("issues", i, f), s)?;
        }
        check_opt(At::Row("issues", i, "ref.key"), &r.key)?;
        check_opt(At::Row("issues", i, "ref.url"), &r.url)?;
        check_str(At::Row("issues", i, "title"), &issue.title)?;
        check_opt(At::Row("issues", i, "body"), &issue.body)?;
        check_str(At::Row("issues", i, "status"), &issue.status)?;
        check_str(At::Row("issues", i, "issue_type"), &issue.issue_type)?;
        check_opt(At::Row("issues", i, "updated_at"), &issue.updated_at)?;
        for (name, list) in [("assignees", &issue.assignees), ("labels", &issue.labels)] {
            check_count(
                At::Row("issues", i, name),
                list.len(),
                MAX_LIST_ITEMS,
                "MAX_LIST_ITEMS",
            )?;
            for (j, s) in list.iter().enumerate() {
                check_str(At::Item("issues", i, name, j), s)?;
            }
        }
    }
    for (i, m) in input.mappings.iter().enumerate() {
        for (f, s) in [
            ("wp_id", &m.wp_id),
            ("system", &m.system),
            ("workspace", &m.workspace),
            ("external_id", &m.external_id),
            ("created_at", &m.created_at),
            ("updated_at", &m.updated_at),
        ] {
            check_str(At::Row("mappings", i, f), s)?;
        }
        check_opt(At::Row("mappings", i, "external_key"), &m.external_key)?;
        check_opt(At::Row("mappings", i, "external_url"), &m.external_url)?;
    }
    if let Some(c) = &input.checkpoint {
        check_opt(At::Field("checkpoint.cursor"), &c.cursor)?;
        check_opt(At::Field("checkpoint.updated_since"), &c.updated_since)?;
    }
    Ok(())
}
