//! The framed forms: one string in, one string out, for hosts where every
//! WIT type in a signature costs on every call (wasmtime-py's component API
//! rebuilds a Python object per type, per call). Same rules, same bytes as
//! the typed forms; only the packing differs.
//!
//! A frame is fields joined by U+000A. The last field runs to the end of the
//! string, so it may hold anything (a body, a message, a credential); no
//! earlier field holds U+000A (checked here, so a host can split blindly).

use crate::error::{ErrorKind, PublishError};
use crate::{IdempotencyScheme, PublishOptions};

/// `resolve-resource-routing` for `<credentials>\n<provider>`: the
/// credentials as a JSON object of strings (no raw line feed, which JSON
/// allows only as white space), then the provider, whole. The result is
/// `none`, `some\n<resource-type>\n<resource-id>`, or
/// `error\n<error-kind>\n<message>`.
pub fn resolve_resource_routing_framed(request: &str) -> String {
    let Some((credentials, provider)) = request.split_once('\n') else {
        return error_frame(&PublishError::new(
            ErrorKind::InvalidInput,
            "request: expected the credentials, a line feed, then the provider",
        ));
    };
    let pairs = match crate::json::read_credentials(credentials) {
        Ok(pairs) => pairs,
        Err(e) => return error_frame(&e),
    };
    match crate::resolve_resource_routing(provider, &pairs) {
        // A resource type is a fixed name from the routing map: never a line feed.
        Some(r) => frame(&["some", r.resource_type], &r.resource_id),
        None => "none".to_owned(),
    }
}

/// `build-snapshot-payload-json-text` for the JSON form of the input, or
/// `content\n` (or `v1\n`) before it: a JSON text never starts with a
/// letter other than `t`, `f`, `n`, so the prefix is unambiguous, and the
/// default scheme (`v1`, the CLI's) needs no copy of a big input to add it.
/// As one frame:
/// `ok\n<endpoint>\n<idempotency-key>\n<header count>\n<name>\n<value>...\n<body>`
/// or `error\n<error-kind>\n<message>`.
pub fn build_snapshot_payload_framed(request: &str) -> String {
    let (idempotency, input) = if let Some(input) = request.strip_prefix("content\n") {
        (IdempotencyScheme::Content, input)
    } else {
        let input = request.strip_prefix("v1\n").unwrap_or(request);
        (IdempotencyScheme::V1, input)
    };
    let r = match crate::build_snapshot_payload_json(input, &PublishOptions { idempotency }) {
        Ok(r) => r,
        Err(e) => return error_frame(&e),
    };
    let Ok(body) = String::from_utf8(r.body) else {
        return bug("body: not valid UTF-8");
    };
    // A handful of headers (contract section 5): two digits at most.
    let Ok(count @ 0..=99) = u8::try_from(r.headers.len()) else {
        return bug("request: over 99 headers");
    };
    let mut buf = [0; 2];
    let digits = decimal(count, &mut buf);
    let mut fields: Vec<&str> = Vec::with_capacity(4 + 2 * r.headers.len());
    fields.extend(["ok", &r.endpoint, &r.idempotency_key, digits]);
    for (k, v) in &r.headers {
        fields.extend([k.as_str(), v.as_str()]);
    }
    if fields.iter().any(|f| f.as_bytes().contains(&b'\n')) {
        return bug("request: a header or the endpoint holds a line feed");
    }
    frame(&fields, &body)
}

/// `n` (at most 99) in decimal, without formatting machinery in the guest.
fn decimal(n: u8, buf: &mut [u8; 2]) -> &str {
    *buf = [b'0' + n / 10 % 10, b'0' + n % 10];
    core::str::from_utf8(&buf[usize::from(n < 10)..]).unwrap_or("0")
}

/// `fields`, each followed by U+000A, then `last`.
#[inline(never)]
fn frame(fields: &[&str], last: &str) -> String {
    let len = fields.iter().map(|f| f.len() + 1).sum::<usize>() + last.len();
    let mut out = String::with_capacity(len);
    for f in fields {
        out.push_str(f);
        out.push('\n');
    }
    out.push_str(last);
    out
}

fn error_frame(e: &PublishError) -> String {
    frame(&["error", e.kind().as_str()], e.message())
}

#[cold]
fn bug(what: &str) -> String {
    frame(
        &["error", ErrorKind::InvalidInput.as_str()],
        &[what, " (a bug in tracker-publish)"].concat(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_frames_keep_any_credential_value_whole() {
        let creds = r#"{"2":"x","project_key":" A\nB\u2028 ","team_id":"t"}"#;
        let route = |provider: &str, creds: &str| {
            resolve_resource_routing_framed(&format!("{creds}\n{provider}"))
        };
        assert_eq!(route("jira", creds), "some\njira_project\nA\nB");
        assert_eq!(route("linear", creds), "some\nlinear_team\nt");
        assert_eq!(route("Jira", creds), "none");
        assert_eq!(route("jira", "{}"), "none");
        assert_eq!(
            route("jira\nlinear", creds),
            "none",
            "a provider is the rest, whole"
        );
        assert!(
            resolve_resource_routing_framed("{}").starts_with("error\ninvalid-input\nrequest: ")
        );
    }

    #[test]
    fn routing_refuses_what_the_json_form_refuses_naming_the_field() {
        for (bad, message) in [
            (
                r#"{"project_key":1}"#,
                "credentials.project_key: expected a string, found a number",
            ),
            (r#"{"a":"s3cret","a":"b"}"#, "credentials.a: repeated key"),
        ] {
            assert_eq!(
                resolve_resource_routing_framed(&format!("{bad}\njira")),
                format!("error\ninvalid-input\n{message}")
            );
        }
        let f = resolve_resource_routing_framed("{\"a\":\"s3cret\"} x\njira");
        assert!(f.starts_with("error\ninvalid-input\ncredentials"), "{f}");
        assert!(!f.contains("s3cret"));
    }

    #[test]
    fn payload_errors_are_framed_with_their_kind() {
        let bad = ["[]", "v1\n[]", "content\n[]", "", "v1", "V1\n{}", "v2\n{}"];
        for bad in bad {
            let f = build_snapshot_payload_framed(bad);
            assert!(
                f.starts_with("error\ninvalid-input\ninput: "),
                "{bad:?}: {f}"
            );
        }
        for (n, want) in [
            (0, "0"),
            (4, "4"),
            (9, "9"),
            (10, "10"),
            (42, "42"),
            (99, "99"),
        ] {
            assert_eq!(decimal(n, &mut [0; 2]), want);
        }
    }
}
