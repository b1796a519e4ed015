//! The JSON body, in contract key order, written as the CLI writes it (section 4).

use crate::input::{IssueSnapshot, MappingRow, SnapshotInput};
use crate::json::is_verbatim;
use crate::json::write::{write_i64, write_opt_str, write_str};
use crate::normalize::is_blank;
use crate::routing::ResourceRouting;

/// The normalised values the body carries besides the input's own rows.
pub(crate) struct Header<'n> {
    pub provider: &'n str,
    pub workspace: &'n str,
    pub routing: Option<&'n ResourceRouting>,
    pub doctrine_mode: &'n str,
}

/// The body size, a little over rather than under: a buffer that has to
/// grow doubles, which copies the body written so far and can leave half of
/// a body's worth of guest memory unused. Counts every key and punctuation
/// mark, every string's bytes, and 1/16 more of the long free-text fields
/// (titles, bodies) for escapes (about 1% in the benchmark inputs).
fn size_hint(h: &Header<'_>, input: &SnapshotInput<'_>) -> usize {
    let opt = |s: &Option<crate::Text<'_>>| s.as_deref().map_or(0, str::len);
    let list = |v: &[crate::Text<'_>]| v.iter().map(|s| s.len() + 3).sum::<usize>();
    // `{"ref":{...}}` with empty strings and a 20-digit priority: 186 bytes.
    let issue_bytes: usize = input
        .issues
        .iter()
        .map(|i| {
            let text = i.title.len() + opt(&i.body);
            186 + text
                + text / 16
                + i.r#ref.id.len()
                + i.r#ref.system.len()
                + i.r#ref.workspace.len()
                + opt(&i.r#ref.key)
                + opt(&i.r#ref.url)
                + i.status.len()
                + i.issue_type.len()
                + opt(&i.updated_at)
                + list(&i.assignees)
                + list(&i.labels)
        })
        .sum();
    // A mapping with empty strings: 124 bytes.
    let mapping_bytes: usize = input
        .mappings
        .iter()
        .map(|m| {
            124 + m.wp_id.len()
                + m.system.len()
                + m.workspace.len()
                + m.external_id.len()
                + opt(&m.external_key)
                + opt(&m.external_url)
                + m.created_at.len()
                + m.updated_at.len()
        })
        .sum();
    let owners: usize = input
        .doctrine_field_owners
        .iter()
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum();
    512 + h.provider.len()
        + h.workspace.len()
        + h.doctrine_mode.len()
        + owners
        + h.routing.map_or(0, |r| r.resource_id.len())
        + opt(&input.project_uuid)
        + opt(&input.project_slug)
        + input
            .checkpoint
            .as_ref()
            .map_or(0, |c| opt(&c.cursor) + opt(&c.updated_since))
        + issue_bytes
        + mapping_bytes
}

/// Writes an issue's or a mapping's string: copied as it stands when it was
/// taken verbatim from the JSON source (`src`, see
/// `json::read_snapshot_input_verbatim`), else escaped.
#[inline]
fn write_text(out: &mut Vec<u8>, s: &str, src: Option<&str>) {
    match src {
        Some(src) if is_verbatim(s, src) => {
            out.reserve(s.len() + 2);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        _ => write_str(out, s),
    }
}

fn write_opt_text(out: &mut Vec<u8>, s: Option<&str>, src: Option<&str>) {
    match s {
        Some(s) => write_text(out, s, src),
        None => out.extend_from_slice(b"null"),
    }
}

/// Writes the body bytes. `src` is the JSON source when the input was read
/// with `json::read_snapshot_input_verbatim`, else `None`.
pub(crate) fn write_body(h: &Header<'_>, input: &SnapshotInput<'_>, src: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint(h, input));
    out.extend_from_slice(b"{\"provider\":");
    write_str(&mut out, h.provider);
    out.extend_from_slice(b",\"workspace\":");
    write_str(&mut out, h.workspace);
    out.extend_from_slice(b",\"external_resource_type\":");
    write_opt_str(&mut out, h.routing.map(|r| r.resource_type));
    out.extend_from_slice(b",\"external_resource_id\":");
    write_opt_str(&mut out, h.routing.map(|r| r.resource_id.as_str()));
    out.extend_from_slice(b",\"doctrine_mode\":");
    write_str(&mut out, h.doctrine_mode);
    out.extend_from_slice(b",\"doctrine_field_owners\":{");
    let mut first = true;
    for (k, v) in &input.doctrine_field_owners {
        // Entries with a blank key or value are dropped; the rest kept as given.
        if is_blank(k) || is_blank(v) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(&mut out, k);
        out.push(b':');
        write_str(&mut out, v);
    }
    out.extend_from_slice(b"},\"project_uuid\":");
    write_opt_str(&mut out, input.project_uuid.as_deref());
    out.extend_from_slice(b",\"project_slug\":");
    write_opt_str(&mut out, input.project_slug.as_deref());
    out.extend_from_slice(b",\"issues\":[");
    for (i, issue) in input.issues.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_issue(&mut out, issue, src);
    }
    out.extend_from_slice(b"],\"mappings\":[");
    for (i, m) in input.mappings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_mapping(&mut out, m, src);
    }
    let (cursor, since) = match &input.checkpoint {
        Some(c) => (c.cursor.as_deref(), c.updated_since.as_deref()),
        None => (None, None),
    };
    out.extend_from_slice(b"],\"checkpoint\":{\"cursor\":");
    write_opt_str(&mut out, cursor);
    out.extend_from_slice(b",\"updated_since\":");
    write_opt_str(&mut out, since);
    out.extend_from_slice(b"}}");
    out
}

fn write_list(out: &mut Vec<u8>, items: &[crate::Text<'_>], src: Option<&str>) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_text(out, s, src);
    }
    out.push(b']');
}

fn write_issue(out: &mut Vec<u8>, issue: &IssueSnapshot<'_>, src: Option<&str>) {
    let r = &issue.r#ref;
    out.extend_from_slice(b"{\"ref\":{\"system\":");
    write_text(out, &r.system, src);
    out.extend_from_slice(b",\"workspace\":");
    write_text(out, &r.workspace, src);
    out.extend_from_slice(b",\"id\":");
    write_text(out, &r.id, src);
    out.extend_from_slice(b",\"key\":");
    write_opt_text(out, r.key.as_deref(), src);
    out.extend_from_slice(b",\"url\":");
    write_opt_text(out, r.url.as_deref(), src);
    out.extend_from_slice(b"},\"title\":");
    write_text(out, &issue.title, src);
    out.extend_from_slice(b",\"body\":");
    write_opt_text(out, issue.body.as_deref(), src);
    out.extend_from_slice(b",\"status\":");
    write_text(out, &issue.status, src);
    out.extend_from_slice(b",\"issue_type\":");
    write_text(out, &issue.issue_type, src);
    out.extend_from_slice(b",\"priority\":");
    match issue.priority {
        Some(p) => write_i64(out, p),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"assignees\":");
    write_list(out, &issue.assignees, src);
    out.extend_from_slice(b",\"labels\":");
    write_list(out, &issue.labels, src);
    out.extend_from_slice(b",\"updated_at\":");
    write_opt_text(out, issue.updated_at.as_deref(), src);
    out.push(b'}');
}

fn write_mapping(out: &mut Vec<u8>, m: &MappingRow<'_>, src: Option<&str>) {
    out.extend_from_slice(b"{\"wp_id\":");
    write_text(out, &m.wp_id, src);
    out.extend_from_slice(b",\"system\":");
    write_text(out, &m.system, src);
    out.extend_from_slice(b",\"workspace\":");
    write_text(out, &m.workspace, src);
    out.extend_from_slice(b",\"external_id\":");
    write_text(out, &m.external_id, src);
    out.extend_from_slice(b",\"external_key\":");
    write_opt_text(out, m.external_key.as_deref(), src);
    out.extend_from_slice(b",\"external_url\":");
    write_opt_text(out, m.external_url.as_deref(), src);
    out.extend_from_slice(b",\"created_at\":");
    write_text(out, &m.created_at, src);
    out.extend_from_slice(b",\"updated_at\":");
    write_text(out, &m.updated_at, src);
    out.push(b'}');
}
