//! The receiving side (contract section 8): is a request body a payload a
//! compliant client writes, which idempotency scheme does its key follow, and
//! where does the snapshot route?
//!
//! One implementation for both sides: a server checks what it receives with
//! the same code that wrote it. A compliant client's body is canonical, so
//! after the shape and the value rules are checked, the body is written again
//! with the client's own writer and must come out byte for byte the same.

use crate::error::Piece::{Debug, Num, Quoted, Str};
use crate::error::{ErrorKind, PublishError, msg};
use crate::idempotency::{IdempotencyScheme, V1Fields, content_key, v1_key};
use crate::input::{Checkpoint, IssueSnapshot, MappingRow, Pairs, SnapshotInput, Text};
use crate::limits;
use crate::normalize::{
    doctrine_mode, first_unassigned, is_blank, normalize_provider, py_strip, unassigned_provider,
};
use crate::payload::{Header, write_body};
use crate::routing::{ROUTING_MAP, ResourceRouting};

/// A request body as read, before its values are checked (contract section 4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotPayload<'a> {
    /// The normalised provider.
    pub provider: Text<'a>,
    /// The stripped workspace.
    pub workspace: Text<'a>,
    /// The routing type, e.g. `jira_project`.
    pub external_resource_type: Option<Text<'a>>,
    /// The routing id, e.g. the Jira project key.
    pub external_resource_id: Option<Text<'a>>,
    /// The doctrine mode, stripped, never blank.
    pub doctrine_mode: Text<'a>,
    /// Field owners, blank entries dropped, in order.
    pub doctrine_field_owners: Pairs<'a>,
    /// `project.uuid`.
    pub project_uuid: Option<Text<'a>>,
    /// `project.slug`.
    pub project_slug: Option<Text<'a>>,
    /// The issues.
    pub issues: Vec<IssueSnapshot<'a>>,
    /// The mapping rows.
    pub mappings: Vec<MappingRow<'a>>,
    /// The checkpoint (both fields null when the client had no checkpoint row).
    pub checkpoint: Checkpoint<'a>,
}

/// What a receiver learns from a verified snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotReceipt {
    /// The normalised provider.
    pub provider: String,
    /// The workspace.
    pub workspace: String,
    /// The routing type; set exactly when `external_resource_id` is.
    pub external_resource_type: Option<String>,
    /// The routing id; set exactly when `external_resource_type` is.
    pub external_resource_id: Option<String>,
    /// The scheme the `Idempotency-Key` follows.
    pub scheme: IdempotencyScheme,
    /// Number of issues.
    pub issues: usize,
    /// Number of mapping rows.
    pub mappings: usize,
    /// Where the receiver files the snapshot: `[provider, workspace,
    /// external_resource_type, external_resource_id]`, or `[provider,
    /// workspace]` when the routing is null.
    pub routing_key: Vec<String>,
}

type Result<T> = core::result::Result<T, PublishError>;

/// Checks a received body and its `Idempotency-Key`.
///
/// The body must be UTF-8 JSON of exactly the payload's shape (section 4:
/// every field, in contract order, of the right type), with the values a
/// client writes: the provider normalised, the workspace and doctrine mode
/// stripped and not blank, the routing both set (and the routing map's type
/// for the provider) or both null, no blank field owner, and the canonical
/// encoding. A refusal is `invalid-input` naming the field path (such as
/// `issues[2].ref.id`), or `too-large` naming the limit. The key must be the
/// body's `v1` or `content` key; else `invalid-input` naming `Idempotency-Key`.
pub fn verify_snapshot(body: &[u8], idempotency_key: &str) -> Result<SnapshotReceipt> {
    if body.len() > limits::MAX_INPUT_BYTES {
        return Err(PublishError::new(
            ErrorKind::TooLarge,
            msg(&[
                Str("body: "),
                Num(body.len()),
                Str(" bytes is over the limit of "),
                Num(limits::MAX_INPUT_BYTES),
                Str(" bytes (MAX_INPUT_BYTES)"),
            ]),
        ));
    }
    let text = core::str::from_utf8(body).map_err(|e| {
        PublishError::invalid_input(
            "body",
            &msg(&[
                Str("not valid UTF-8 (at byte "),
                Num(e.valid_up_to()),
                Str(")"),
            ]),
        )
    })?;
    // The reader calls the root `input`; here it is the body.
    let payload = crate::json::read_snapshot_payload(text).map_err(|e| {
        match e.message().strip_prefix("input: ") {
            Some(rest) => PublishError::new(e.kind(), msg(&[Str("body: "), Str(rest)])),
            None => e,
        }
    })?;
    let routing = check_values(&payload)?;
    let (issues, mappings) = (payload.issues.len(), payload.mappings.len());
    let v1 = v1_key(&V1Fields {
        provider: &payload.provider,
        workspace: &payload.workspace,
        resource_type: routing.as_ref().map(|r| r.resource_type),
        resource_id: routing.as_ref().map(|r| r.resource_id.as_str()),
        issues,
        mappings,
        cursor: payload.checkpoint.cursor.as_deref(),
    });
    let SnapshotPayload {
        provider,
        workspace,
        doctrine_mode,
        doctrine_field_owners,
        project_uuid,
        project_slug,
        issues: issue_rows,
        mappings: mapping_rows,
        checkpoint,
        ..
    } = payload;
    let header = Header {
        provider: &provider,
        workspace: &workspace,
        routing: routing.as_ref(),
        doctrine_mode: &doctrine_mode,
    };
    let input = SnapshotInput {
        doctrine_field_owners,
        project_uuid,
        project_slug,
        issues: issue_rows,
        mappings: mapping_rows,
        checkpoint: Some(checkpoint),
        ..SnapshotInput::default()
    };
    check_canonical(&write_body(&header, &input, None), body)?;

    let scheme = if idempotency_key == v1 {
        IdempotencyScheme::V1
    } else if idempotency_key == content_key(body) {
        IdempotencyScheme::Content
    } else {
        return Err(PublishError::invalid_input(
            "Idempotency-Key",
            "matches neither the v1 key nor the content key of this body (contract section 5)",
        ));
    };

    let mut routing_key = vec![provider.to_string(), workspace.to_string()];
    if let Some(r) = &routing {
        routing_key.push(r.resource_type.to_owned());
        routing_key.push(r.resource_id.clone());
    }
    Ok(SnapshotReceipt {
        provider: provider.into_owned(),
        workspace: workspace.into_owned(),
        external_resource_type: routing.as_ref().map(|r| r.resource_type.to_owned()),
        external_resource_id: routing.map(|r| r.resource_id),
        scheme,
        issues,
        mappings,
        routing_key,
    })
}

/// The value rules a client's writer guarantees; returns the routing.
fn check_values(p: &SnapshotPayload<'_>) -> Result<Option<ResourceRouting>> {
    if is_blank(&p.provider) {
        return Err(PublishError::invalid_input("provider", "blank"));
    }
    if let Some(c) = first_unassigned(&p.provider) {
        return Err(unassigned_provider(c));
    }
    if normalize_provider(&p.provider) != p.provider {
        return Err(PublishError::invalid_input(
            "provider",
            "not normalised (a client sends it stripped and lower-cased, with azure and azure-devops as azure_devops)",
        ));
    }
    if is_blank(&p.workspace) {
        return Err(PublishError::invalid_input("workspace", "blank"));
    }
    if py_strip(&p.workspace) != p.workspace {
        return Err(PublishError::invalid_input(
            "workspace",
            "not stripped of white space",
        ));
    }
    let routing = match (
        p.external_resource_type.as_deref(),
        p.external_resource_id.as_deref(),
    ) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(PublishError::invalid_input(
                "external_resource_id",
                "null while external_resource_type is set (the routing fields are both set or both null)",
            ));
        }
        (None, Some(_)) => {
            return Err(PublishError::invalid_input(
                "external_resource_type",
                "null while external_resource_id is set (the routing fields are both set or both null)",
            ));
        }
        (Some(t), Some(id)) => {
            let Some(&(_, expected, _)) = ROUTING_MAP.iter().find(|(p2, _, _)| *p2 == p.provider)
            else {
                return Err(PublishError::invalid_input(
                    "external_resource_type",
                    &msg(&[
                        Str("provider "),
                        Quoted(&p.provider),
                        Str(" has no resource routing; expected null"),
                    ]),
                ));
            };
            if t != expected {
                return Err(PublishError::invalid_input(
                    "external_resource_type",
                    &msg(&[
                        Str("expected "),
                        Quoted(expected),
                        Str(" for provider "),
                        Quoted(&p.provider),
                    ]),
                ));
            }
            if is_blank(id) || py_strip(id) != id {
                return Err(PublishError::invalid_input(
                    "external_resource_id",
                    "blank or not stripped of white space",
                ));
            }
            Some(ResourceRouting {
                resource_type: expected,
                resource_id: id.to_owned(),
            })
        }
    };
    if doctrine_mode(Some(&p.doctrine_mode)) != p.doctrine_mode {
        return Err(PublishError::invalid_input(
            "doctrine_mode",
            "blank or not stripped (a client sends external_authoritative when none is set)",
        ));
    }
    if let Some((k, _)) = p
        .doctrine_field_owners
        .iter()
        .find(|(k, v)| is_blank(k) || is_blank(v))
    {
        let path = msg(&[Str("doctrine_field_owners["), Debug(k), Str("]")]);
        return Err(PublishError::invalid_input(
            &path,
            "blank key or value (a client drops such entries)",
        ));
    }
    Ok(routing)
}

/// The body, written again by the client's writer, must be the same bytes.
fn check_canonical(canonical: &[u8], body: &[u8]) -> Result<()> {
    let Some(at) = first_difference(canonical, body) else {
        return Ok(());
    };
    Err(PublishError::invalid_input(
        "body",
        &msg(&[
            Str(
                "not in the form a client writes (compact JSON, contract key order, raw UTF-8, only the required escapes); first difference at byte ",
            ),
            Num(at),
        ]),
    ))
}

/// Where `a` and `b` first differ (the shorter one's length when one is a
/// prefix of the other), or `None` when they are equal. Eight bytes at a
/// time: in the guest, `==` on slices is a byte-by-byte `memcmp`, which
/// doubled the time of a verification.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_ne_bytes(w)
    };
    let same_words = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .take_while(|(x, y)| word(x) == word(y))
        .count();
    let start = same_words * 8;
    let tail = a
        .get(start..)
        .unwrap_or_default()
        .iter()
        .zip(b.get(start..).unwrap_or_default())
        .position(|(x, y)| x != y);
    match tail {
        Some(i) => Some(start + i),
        None if a.len() == b.len() => None,
        None => Some(a.len().min(b.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn first_difference_at_every_offset() {
        let a: Vec<u8> = (0..40u8).collect();
        assert_eq!(first_difference(&a, &a), None);
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 0x80;
            assert_eq!(first_difference(&a, &b), Some(i), "at {i}");
            assert_eq!(first_difference(&a, &a[..i]), Some(i), "prefix of {i}");
            assert_eq!(first_difference(&a[..i], &a), Some(i), "prefix of {i}");
        }
    }
}
