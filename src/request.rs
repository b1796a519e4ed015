//! The request: endpoint, headers and token rules (contract section 6), and
//! the two entry points that tie every rule together.

use crate::error::Piece::{Debug, Str};
use crate::error::{ErrorKind, PublishError, msg};
use crate::idempotency::{IdempotencyScheme, V1Fields, content_key, v1_key};
use crate::input::{SnapshotInput, first_repeated_key, lookup};
use crate::normalize::{
    doctrine_mode, first_unassigned, normalize_provider, py_strip, unassigned_provider,
};
use crate::payload::{Header, write_body};
use crate::routing::resolve_resource_routing;

/// The path every snapshot is posted to, below the server URL.
pub const SNAPSHOTS_PATH: &str = "/api/v1/connectors/trackers/snapshots/";

/// Choices a host makes per request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// The idempotency scheme; `v1` unless asked otherwise.
    pub idempotency: IdempotencyScheme,
}

/// The request to send, exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishRequest {
    /// The URL to `POST` to.
    pub endpoint: String,
    /// Header names and values, in wire order.
    pub headers: Vec<(String, String)>,
    /// The body bytes (UTF-8 JSON).
    pub body: Vec<u8>,
    /// The `Idempotency-Key` value.
    pub idempotency_key: String,
}

/// The endpoint for a server URL: every trailing `/` removed, then
/// [`SNAPSHOTS_PATH`]. Refuses anything but an http(s) URL with a host, and
/// user-info, without repeating the URL (it may hold a password).
pub fn endpoint(server_url: &str) -> Result<String, PublishError> {
    let bad = bad_server_url;
    let base = server_url.trim_end_matches('/');
    if base.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("must not contain white space or control characters"));
    }
    let Some((scheme, rest)) = split_scheme(base) else {
        return Err(bad("expected an http:// or https:// URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad(
            "expected an http:// or https:// URL (the scheme is not http or https)",
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad(
            "must not contain user-info (user:password@); give the token with --auth-token instead",
        ));
    }
    if authority.contains('\\') {
        return Err(bad("the host must not contain '\\'"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((inner, after)) = v6.split_once(']') else {
            return Err(bad("unclosed '[' in the host"));
        };
        if inner.parse::<core::net::Ipv6Addr>().is_err() {
            return Err(bad("invalid IPv6 address in the host"));
        }
        match after {
            "" => (inner, None),
            p => match p.strip_prefix(':') {
                Some(p) => (inner, Some(p)),
                None => return Err(bad("unexpected characters after the IPv6 host")),
            },
        }
    } else {
        // `rsplit_once(':')`, with a plain byte search.
        match authority.bytes().rposition(|b| b == b':') {
            Some(at) => (
                authority.get(..at).unwrap_or_default(),
                authority.get(at + 1..),
            ),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    // '[', ']' only around an IPv6 literal; a second ':' would be two ports.
    if !authority.starts_with('[') && host.bytes().any(|b| matches!(b, b'[' | b']' | b':')) {
        return Err(bad(
            "the host must be a name, an IPv4 address or an IPv6 address in brackets, with at most one port",
        ));
    }
    if let Some(p) = port {
        // Empty, or digits up to 65535; leading zeros are allowed (RFC 3986, httpx).
        let digits = p.trim_start_matches('0');
        let valid = digits.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && digits
                .bytes()
                .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'))
                <= 65535;
        if !valid {
            return Err(bad("the port must be a number from 0 to 65535"));
        }
    }
    let mut url = String::with_capacity(base.len() + SNAPSHOTS_PATH.len());
    url.push_str(base);
    url.push_str(SNAPSHOTS_PATH);
    Ok(url)
}

#[cold]
#[inline(never)]
fn bad_server_url(why: &str) -> PublishError {
    PublishError::new(
        ErrorKind::InvalidServerUrl,
        msg(&[Str("server_url: "), Str(why)]),
    )
}

/// `split_once("://")`, with a plain byte search.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let at = url.as_bytes().windows(3).position(|w| w == b"://")?;
    Some((url.get(..at)?, url.get(at + 3..)?))
}

/// The bearer token, as the CLI resolves it: the explicit token if it is
/// non-empty (as given); else `access_token` if present and non-empty, else
/// `token`, stripped. `None` means no `Authorization` header. A token with a
/// character outside U+0021..U+007E is refused, and never repeated.
pub fn resolve_token<'t, K: AsRef<str>, V: AsRef<str>>(
    auth_token: Option<&'t str>,
    credentials: &'t [(K, V)],
) -> Result<Option<&'t str>, PublishError> {
    let (token, source) = match auth_token {
        Some(t) if !t.is_empty() => (t, "auth_token"),
        _ => match lookup(credentials, "access_token") {
            Some(t) if !t.is_empty() => (py_strip(t), "credentials[\"access_token\"]"),
            _ => (
                py_strip(lookup(credentials, "token").unwrap_or("")),
                "credentials[\"token\"]",
            ),
        },
    };
    if token.is_empty() {
        return Ok(None);
    }
    if let Some(bad) = token.chars().find(|c| !('\u{21}'..='\u{7e}').contains(c)) {
        let what = match bad {
            ' ' | '\t' | '\r' | '\n' => "white space or a line break",
            c if c.is_control() => "a control character",
            _ => "a non-ASCII character",
        };
        return Err(PublishError::new(
            ErrorKind::InvalidAuthToken,
            msg(&[
                Str(source),
                Str(": the token contains "),
                Str(what),
                Str("; a bearer token may hold only visible ASCII (U+0021 to U+007E)"),
            ]),
        ));
    }
    Ok(Some(token))
}

/// Computes the request for a typed input (contract sections 2 to 7).
pub fn build_snapshot_payload(
    input: &SnapshotInput<'_>,
    options: &PublishOptions,
) -> Result<PublishRequest, PublishError> {
    crate::limits::check(input)?;
    build(input, options, None)
}

/// Computes the request from the JSON form of the input.
// Never inlined: several component exports call it; one shared copy keeps the
// lean component about 200 bytes smaller (measured).
#[inline(never)]
pub fn build_snapshot_payload_json(
    input: &str,
    options: &PublishOptions,
) -> Result<PublishRequest, PublishError> {
    let src = input;
    let input = crate::json::read_snapshot_input_verbatim(src)?;
    build(&input, options, Some(src))
}

/// `src`: the JSON source when `input` was read from it in verbatim mode.
fn build(
    input: &SnapshotInput<'_>,
    options: &PublishOptions,
    src: Option<&str>,
) -> Result<PublishRequest, PublishError> {
    for (name, pairs) in [
        ("doctrine_field_owners", &input.doctrine_field_owners),
        ("credentials", &input.credentials),
    ] {
        if let Some(k) = first_repeated_key(pairs) {
            let path = msg(&[Str(name), Str("["), Debug(k), Str("]")]);
            return Err(PublishError::invalid_input(&path, "repeated key"));
        }
    }

    let provider = normalize_provider(&input.provider);
    if let Some(c) = first_unassigned(&provider) {
        return Err(unassigned_provider(c));
    }
    let workspace = py_strip(&input.workspace);
    if provider.is_empty() {
        return Err(PublishError::new(
            ErrorKind::NotConfigured,
            "provider: the tracker provider is blank; bind a tracker first",
        ));
    }
    if workspace.is_empty() {
        return Err(PublishError::new(
            ErrorKind::NotConfigured,
            "workspace: the tracker workspace is blank; bind a tracker first",
        ));
    }
    let endpoint = endpoint(&input.server_url)?;
    let token = resolve_token(input.auth_token.as_deref(), &input.credentials)?;

    let routing = resolve_resource_routing(&provider, &input.credentials);
    let header = Header {
        provider: &provider,
        workspace,
        routing: routing.as_ref(),
        doctrine_mode: doctrine_mode(input.doctrine_mode.as_deref()),
    };
    let body = write_body(&header, input, src);

    let idempotency_key = match options.idempotency {
        IdempotencyScheme::V1 => v1_key(&V1Fields {
            provider: &provider,
            workspace,
            resource_type: routing.as_ref().map(|r| r.resource_type),
            resource_id: routing.as_ref().map(|r| r.resource_id.as_str()),
            issues: input.issues.len(),
            mappings: input.mappings.len(),
            cursor: input.checkpoint.as_ref().and_then(|c| c.cursor.as_deref()),
        }),
        IdempotencyScheme::Content => content_key(&body),
    };

    let mut headers = Vec::with_capacity(3);
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    headers.push(("Idempotency-Key".to_owned(), idempotency_key.clone()));
    if let Some(token) = token {
        headers.push((
            "Authorization".to_owned(),
            msg(&[Str("Bearer "), Str(token)]),
        ));
    }
    Ok(PublishRequest {
        endpoint,
        headers,
        body,
        idempotency_key,
    })
}
