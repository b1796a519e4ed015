//! Documented limits, enforced before work is done.
//!
//! Each is far above a real project (100,000 issues with long bodies pass)
//! and low enough that a hostile input cannot make a host allocate without
//! bound. An input over a limit is refused as `too-large`, naming the limit.

use crate::error::{ErrorKind, PublishError};
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

fn too_large(what: String) -> PublishError {
    PublishError::new(ErrorKind::TooLarge, what)
}

fn check_str(path: impl FnOnce() -> String, s: &str) -> Result<(), PublishError> {
    if s.len() > MAX_STRING_BYTES {
        return Err(too_large(format!(
            "{}: string of {} bytes is over the limit of {MAX_STRING_BYTES} bytes (MAX_STRING_BYTES)",
            path(),
            s.len()
        )));
    }
    Ok(())
}

fn check_count(path: &str, n: usize, max: usize, name: &str) -> Result<(), PublishError> {
    if n > max {
        return Err(too_large(format!("{path}: {n} items is over the limit of {max} ({name})")));
    }
    Ok(())
}

fn check_opt(path: impl FnOnce() -> String, s: &Option<Text<'_>>) -> Result<(), PublishError> {
    s.as_deref().map_or(Ok(()), |s| check_str(path, s))
}

/// Checks a typed input against every limit. The JSON reader checks the same
/// limits as it reads, so an over-large JSON input is refused early.
pub fn check(input: &SnapshotInput<'_>) -> Result<(), PublishError> {
    check_str(|| "server_url".into(), &input.server_url)?;
    check_opt(|| "auth_token".into(), &input.auth_token)?;
    check_str(|| "provider".into(), &input.provider)?;
    check_str(|| "workspace".into(), &input.workspace)?;
    check_opt(|| "doctrine_mode".into(), &input.doctrine_mode)?;
    check_opt(|| "project_uuid".into(), &input.project_uuid)?;
    check_opt(|| "project_slug".into(), &input.project_slug)?;
    for (name, pairs) in [
        ("doctrine_field_owners", &input.doctrine_field_owners),
        ("credentials", &input.credentials),
    ] {
        check_count(name, pairs.len(), MAX_MAP_ENTRIES, "MAX_MAP_ENTRIES")?;
        for (k, v) in pairs {
            check_str(|| format!("{name} key"), k)?;
            check_str(|| format!("{name}[{k:?}]"), v)?;
        }
    }
    check_count("issues", input.issues.len(), MAX_ISSUES, "MAX_ISSUES")?;
    check_count("mappings", input.mappings.len(), MAX_MAPPINGS, "MAX_MAPPINGS")?;
    for (i, issue) in input.issues.iter().enumerate() {
        let at = |f: &str| format!("issues[{i}].{f}");
        let r = &issue.r#ref;
        check_str(|| at("ref.system"), &r.system)?;
        check_str(|| at("ref.workspace"), &r.workspace)?;
        check_str(|| at("ref.id"), &r.id)?;
        check_opt(|| at("ref.key"), &r.key)?;
        check_opt(|| at("ref.url"), &r.url)?;
        check_str(|| at("title"), &issue.title)?;
        check_opt(|| at("body"), &issue.body)?;
        check_str(|| at("status"), &issue.status)?;
        check_str(|| at("issue_type"), &issue.issue_type)?;
        check_opt(|| at("updated_at"), &issue.updated_at)?;
        for (name, list) in [("assignees", &issue.assignees), ("labels", &issue.labels)] {
            check_count(&at(name), list.len(), MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
            for (j, s) in list.iter().enumerate() {
                check_str(|| format!("issues[{i}].{name}[{j}]"), s)?;
            }
        }
    }
    for (i, m) in input.mappings.iter().enumerate() {
        let at = |f: &str| format!("mappings[{i}].{f}");
        for (f, s) in [
            ("wp_id", &m.wp_id),
            ("system", &m.system),
            ("workspace", &m.workspace),
            ("external_id", &m.external_id),
            ("created_at", &m.created_at),
            ("updated_at", &m.updated_at),
        ] {
            check_str(|| at(f), s)?;
        }
        check_opt(|| at("external_key"), &m.external_key)?;
        check_opt(|| at("external_url"), &m.external_url)?;
    }
    if let Some(c) = &input.checkpoint {
        check_opt(|| "checkpoint.cursor".into(), &c.cursor)?;
        check_opt(|| "checkpoint.updated_since".into(), &c.updated_since)?;
    }
    Ok(())
}
