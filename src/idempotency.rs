//! Idempotency keys (contract section 5).

use sha2::{Digest, Sha256};

use crate::error::Piece::{Num, Str};
use crate::error::msg;

/// How the `Idempotency-Key` is derived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdempotencyScheme {
    /// The CLI's key over counts and cursor; the default, for drop-in compatibility.
    #[default]
    V1,
    /// SHA-256 of the exact body bytes, so an edited snapshot gets a new key.
    Content,
}

impl IdempotencyScheme {
    /// The name hosts accept on their command lines: `v1` or `content`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdempotencyScheme::V1 => "v1",
            IdempotencyScheme::Content => "content",
        }
    }

    /// The scheme with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "v1" => Some(IdempotencyScheme::V1),
            "content" => Some(IdempotencyScheme::Content),
            _ => None,
        }
    }
}

/// The fields the `v1` key covers. `None` is written as Python's `str(None)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V1Fields<'a> {
    /// The normalised provider.
    pub provider: &'a str,
    /// The normalised workspace.
    pub workspace: &'a str,
    /// The routing type.
    pub resource_type: Option<&'a str>,
    /// The routing id.
    pub resource_id: Option<&'a str>,
    /// Number of issues.
    pub issues: usize,
    /// Number of mappings.
    pub mappings: usize,
    /// The checkpoint cursor.
    pub cursor: Option<&'a str>,
}

fn hex_sha256(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    s
}

/// The CLI's key: SHA-256 of
/// `{provider}|{workspace}|{type}|{id}|{n_issues}|{n_mappings}|{cursor}`.
pub fn v1_key(f: &V1Fields<'_>) -> String {
    let none = "None";
    let text = msg(&[
        Str(f.provider),
        Str("|"),
        Str(f.workspace),
        Str("|"),
        Str(f.resource_type.unwrap_or(none)),
        Str("|"),
        Str(f.resource_id.unwrap_or(none)),
        Str("|"),
        Num(f.issues),
        Str("|"),
        Num(f.mappings),
        Str("|"),
        Str(f.cursor.unwrap_or(none)),
    ]);
    hex_sha256(text.as_bytes())
}

/// The `content` key: SHA-256 of the exact body bytes.
pub fn content_key(body: &[u8]) -> String {
    hex_sha256(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_writes_none_as_python_does() {
        let f = V1Fields {
            provider: "beads",
            workspace: "w",
            resource_type: None,
            resource_id: None,
            issues: 0,
            mappings: 0,
            cursor: None,
        };
        assert_eq!(v1_key(&f), hex_sha256(b"beads|w|None|None|0|0|None"));
    }

    #[test]
    fn content_is_sha256_of_body() {
        // SHA-256 of the empty string.
        assert_eq!(
            content_key(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn v1_writes_counts_and_cursor() {
        let f = V1Fields {
            provider: "jira",
            workspace: "w",
            resource_type: Some("jira_project"),
            resource_id: Some("ACME"),
            issues: 12,
            mappings: 1_000_000,
            cursor: Some("c"),
        };
        assert_eq!(
            v1_key(&f),
            hex_sha256(b"jira|w|jira_project|ACME|12|1000000|c")
        );
        assert_eq!(hex_sha256(b"abc"), hex::encode(Sha256::digest(b"abc")));
    }
}
