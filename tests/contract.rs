//! One or more tests per rule of `publish-contract.md` (sections 1 to 7 and 9),
//! named after the rule they check, asserting on real outputs: exact body
//! bytes, exact headers, exact refusal kinds.
//!
//! Every well-formed input goes through both entry points (the typed records
//! and the JSON form) and the two must agree byte for byte; see [`both`].

mod support;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::typed::typed_input;
use tracker_publish::idempotency::{V1Fields, content_key, v1_key};
use tracker_publish::limits::MAX_STRING_BYTES;
use tracker_publish::normalize::{is_blank, is_py_whitespace, py_strip};
use tracker_publish::request::{SNAPSHOTS_PATH, endpoint, resolve_token};
use tracker_publish::{
    ErrorKind, IdempotencyScheme, PublishError, PublishOptions, PublishRequest,
    build_snapshot_payload, build_snapshot_payload_json, normalize_provider,
    resolve_resource_routing,
};

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

/// The 29 code points Python's `str.isspace()` accepts (contract section 2).
const PY_WHITE_SPACE: [char; 29] = [
    '\u{09}', '\u{0A}', '\u{0B}', '\u{0C}', '\u{0D}', '\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}',
    '\u{20}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}',
    '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];

const SERVER: &str = "https://example.com";
const ENDPOINT: &str = "https://example.com/api/v1/connectors/trackers/snapshots/";

/// The body of [`base`], exactly.
const BASE_BODY: &str = concat!(
    r#"{"provider":"jira","workspace":"acme.atlassian.net","external_resource_type":"jira_project","#,
    r#""external_resource_id":"ACME","doctrine_mode":"external_authoritative","doctrine_field_owners":{},"#,
    r#""project_uuid":null,"project_slug":null,"issues":[],"mappings":[],"#,
    r#""checkpoint":{"cursor":null,"updated_since":null}}"#
);

/// A small well-formed input: Jira, routed to ACME, no token, nothing stored.
fn base() -> Value {
    json!({
        "server_url": SERVER,
        "auth_token": null,
        "provider": "jira",
        "workspace": "acme.atlassian.net",
        "doctrine_mode": null,
        "doctrine_field_owners": {},
        "credentials": {"project_key": "ACME"},
        "project_uuid": null,
        "project_slug": null,
        "issues": [],
        "mappings": [],
        "checkpoint": null
    })
}

/// An issue in the input form.
fn issue(id: &str, title: &str) -> Value {
    json!({
        "ref": {
            "system": "jira",
            "workspace": "acme.atlassian.net",
            "id": id,
            "key": "ACME-1",
            "url": "https://acme.atlassian.net/browse/ACME-1"
        },
        "title": title,
        "body": "Body text",
        "status": "To Do",
        "issue_type": "Task",
        "priority": 3,
        "assignees": ["alice"],
        "labels": ["x", "y"],
        "updated_at": "2026-03-10T12:00:00+00:00"
    })
}

/// The body text of [`issue`]; `title` is already JSON-escaped.
fn issue_body(id: &str, title: &str) -> String {
    format!(
        concat!(
            r#"{{"ref":{{"system":"jira","workspace":"acme.atlassian.net","id":"{id}","key":"ACME-1","#,
            r#""url":"https://acme.atlassian.net/browse/ACME-1"}},"title":"{title}","body":"Body text","#,
            r#""status":"To Do","issue_type":"Task","priority":3,"assignees":["alice"],"labels":["x","y"],"#,
            r#""updated_at":"2026-03-10T12:00:00+00:00"}}"#
        ),
        id = id,
        title = title
    )
}

/// A mapping row in the input form.
fn mapping(wp: &str) -> Value {
    json!({
        "wp_id": wp,
        "system": "jira",
        "workspace": "acme.atlassian.net",
        "external_id": "10001",
        "external_key": "ACME-1",
        "external_url": null,
        "created_at": "2026-03-01T00:00:00+00:00",
        "updated_at": "2026-03-02T00:00:00+00:00"
    })
}

/// Runs both entry points on a well-formed input and requires them to agree:
/// the same request byte for byte, or refusals of the same kind.
fn both(v: &Value, options: &PublishOptions) -> Result<PublishRequest, PublishError> {
    let text = serde_json::to_string(v).unwrap();
    let from_json = build_snapshot_payload_json(&text, options);
    let from_typed = build_snapshot_payload(&typed_input(v), options);
    match (&from_json, &from_typed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "typed and JSON entry points disagree for {text}"),
        (Err(a), Err(b)) => assert_eq!(
            a.kind(),
            b.kind(),
            "typed and JSON entry points refuse differently for {text}: {a} / {b}"
        ),
        _ => panic!(
            "typed and JSON entry points disagree for {text}: json {from_json:?}, typed {from_typed:?}"
        ),
    }
    from_json
}

fn ok(v: &Value) -> PublishRequest {
    both(v, &PublishOptions::default())
        .unwrap_or_else(|e| panic!("expected a request, got refusal {e}"))
}

fn ok_content(v: &Value) -> PublishRequest {
    let options = PublishOptions {
        idempotency: IdempotencyScheme::Content,
    };
    both(v, &options).unwrap_or_else(|e| panic!("expected a request, got refusal {e}"))
}

fn refused(v: &Value) -> PublishError {
    match both(v, &PublishOptions::default()) {
        Ok(r) => panic!(
            "expected a refusal, got a request with body {}",
            body_str(&r)
        ),
        Err(e) => e,
    }
}

/// The JSON entry point on a text that need not be well-formed; must refuse.
fn json_refused(text: &str) -> PublishError {
    match build_snapshot_payload_json(text, &PublishOptions::default()) {
        Ok(r) => panic!(
            "expected a refusal for {}, got a request with a body of {} bytes",
            shorten(text),
            r.body.len()
        ),
        Err(e) => e,
    }
}

/// At most 300 characters of a text, for failure messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{:?}... ({} bytes in all)", &text[..i], text.len()),
        None => format!("{text:?}"),
    }
}

fn body_str(r: &PublishRequest) -> &str {
    std::str::from_utf8(&r.body).expect("the body is UTF-8")
}

fn body_json(r: &PublishRequest) -> Value {
    serde_json::from_slice(&r.body).expect("the body is JSON")
}

fn header<'r>(r: &'r PublishRequest, name: &str) -> Option<&'r str> {
    r.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The v1 key of the documented string.
fn v1(text: &str) -> String {
    sha256_hex(text.as_bytes())
}

/// The exact headers of a request with this key and token.
fn headers(key: &str, token: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Idempotency-Key".to_owned(), key.to_owned()),
    ];
    if let Some(t) = token {
        h.push(("Authorization".to_owned(), format!("Bearer {t}")));
    }
    h
}

/// Python's `json.dumps(ensure_ascii=False)` for one character (section 4).
fn py_json_char(c: char) -> String {
    match c {
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\u{08}' => "\\b".into(),
        '\u{0C}' => "\\f".into(),
        c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
        c => c.to_string(),
    }
}

fn py_json_str(s: &str) -> String {
    s.chars().map(py_json_char).collect()
}

fn assert_kind(e: &PublishError, kind: ErrorKind) {
    assert_eq!(
        e.kind(),
        kind,
        "refused as {} ({}), expected {}",
        e.kind(),
        e.message(),
        kind
    );
    assert!(!e.message().is_empty(), "a refusal without a message");
}

/// The JSON text of an input with its field `key` replaced by raw JSON text.
fn with_raw(v: &Value, key: &str, raw: &str) -> String {
    let mut fields = Vec::new();
    for (k, val) in v.as_object().unwrap() {
        let val = if k == key {
            raw.to_owned()
        } else {
            serde_json::to_string(val).unwrap()
        };
        fields.push(format!("{}:{val}", serde_json::to_string(k).unwrap()));
    }
    format!("{{{}}}", fields.join(","))
}

/// [`base`] with two issues and one mapping, as JSON text, for field paths.
fn two_issues() -> Value {
    let mut v = base();
    v["issues"] = json!([issue("1", "first"), issue("2", "second")]);
    v["mappings"] = json!([mapping("WP01")]);
    v["checkpoint"] = json!({"cursor": "c1", "updated_since": null});
    v
}

// ---------------------------------------------------------------------------
// Section 2: Python white space, each of the 29 code points
// ---------------------------------------------------------------------------

/// One code point: strips provider, workspace, `project_key` and the
/// credential token; makes `doctrine_mode`, a provider, a workspace, an
/// `access_token`, a field-owner key and value blank; and is not stripped from
/// an explicit token (which is then refused).
fn check_white_space_code_point(c: char) {
    let cp = format!("U+{:04X}", c as u32);
    assert!(is_py_whitespace(c), "{cp} is Python white space");
    assert_eq!(py_strip(&format!("{c}{c}x y{c}")), "x y", "{cp}: py_strip");
    assert!(
        is_blank(&format!("{c}")) && is_blank(&format!("{c} {c}")),
        "{cp}: is_blank"
    );
    assert_eq!(
        normalize_provider(&format!("{c}Jira{c}{c}")),
        "jira",
        "{cp}: normalize_provider"
    );

    let mut v = base();
    v["provider"] = json!(format!("{c}{c}Jira{c}"));
    v["workspace"] = json!(format!("{c}acme{c}"));
    v["doctrine_mode"] = json!(format!("{c}{c}"));
    v["doctrine_field_owners"] =
        json!({ format!("{c}"): "x", "status": format!("{c}{c}"), "title": "local" });
    v["credentials"] = json!({
        "project_key": format!("{c}ACME{c}"),
        "token": format!("{c}tok-123{c}"),
    });
    let r = ok(&v);
    let expect_body = concat!(
        r#"{"provider":"jira","workspace":"acme","external_resource_type":"jira_project","#,
        r#""external_resource_id":"ACME","doctrine_mode":"external_authoritative","#,
        r#""doctrine_field_owners":{"title":"local"},"project_uuid":null,"project_slug":null,"#,
        r#""issues":[],"mappings":[],"checkpoint":{"cursor":null,"updated_since":null}}"#
    );
    assert_eq!(body_str(&r), expect_body, "{cp}: body");
    let key = v1("jira|acme|jira_project|ACME|0|0|None");
    assert_eq!(r.headers, headers(&key, Some("tok-123")), "{cp}: headers");
    assert_eq!(r.idempotency_key, key, "{cp}: key");

    // Stripped, not blank: the inner value is kept.
    v["doctrine_mode"] = json!(format!("{c}local_authoritative{c}"));
    assert_eq!(
        body_json(&ok(&v))["doctrine_mode"],
        "local_authoritative",
        "{cp}: doctrine_mode stripped"
    );

    // A white-space access_token is chosen, strips to nothing, hides `token`.
    v["credentials"]["access_token"] = json!(format!("{c}"));
    assert_eq!(
        header(&ok(&v), "Authorization"),
        None,
        "{cp}: access_token hides token"
    );
    v["credentials"]["access_token"] = json!(format!("{c}acc-9{c}"));
    assert_eq!(
        header(&ok(&v), "Authorization"),
        Some("Bearer acc-9"),
        "{cp}: access_token stripped"
    );

    // A blank routing credential means no routing.
    v["credentials"]["project_key"] = json!(format!("{c}{c}"));
    let b = body_json(&ok(&v));
    assert_eq!(
        (&b["external_resource_type"], &b["external_resource_id"]),
        (&Value::Null, &Value::Null),
        "{cp}: blank project_key"
    );

    // The explicit token is used as given: not stripped, so refused.
    let mut t = base();
    t["auth_token"] = json!(format!("{c}tok-123"));
    let e = refused(&t);
    assert_kind(&e, ErrorKind::InvalidAuthToken);
    assert!(
        !e.message().contains("tok-123"),
        "{cp}: the message repeats the token"
    );

    // Provider or workspace of only this code point: not configured.
    let mut p = base();
    p["provider"] = json!(format!("{c}{c}"));
    assert_kind(&refused(&p), ErrorKind::NotConfigured);
    let mut w = base();
    w["workspace"] = json!(format!("{c}"));
    assert_kind(&refused(&w), ErrorKind::NotConfigured);
}

macro_rules! white_space_tests {
    ($($name:ident => $c:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check_white_space_code_point($c);
            }
        )*

        #[test]
        fn white_space_tests_cover_all_29_code_points() {
            let mut covered = vec![$($c),*];
            covered.sort_unstable();
            assert_eq!(covered, PY_WHITE_SPACE.to_vec());
        }
    };
}

white_space_tests! {
    white_space_u0009_tab_is_stripped_and_blank => '\u{09}',
    white_space_u000a_line_feed_is_stripped_and_blank => '\u{0A}',
    white_space_u000b_vertical_tab_is_stripped_and_blank => '\u{0B}',
    white_space_u000c_form_feed_is_stripped_and_blank => '\u{0C}',
    white_space_u000d_carriage_return_is_stripped_and_blank => '\u{0D}',
    white_space_u001c_file_separator_is_stripped_and_blank => '\u{1C}',
    white_space_u001d_group_separator_is_stripped_and_blank => '\u{1D}',
    white_space_u001e_record_separator_is_stripped_and_blank => '\u{1E}',
    white_space_u001f_unit_separator_is_stripped_and_blank => '\u{1F}',
    white_space_u0020_space_is_stripped_and_blank => '\u{20}',
    white_space_u0085_next_line_is_stripped_and_blank => '\u{85}',
    white_space_u00a0_no_break_space_is_stripped_and_blank => '\u{A0}',
    white_space_u1680_ogham_space_mark_is_stripped_and_blank => '\u{1680}',
    white_space_u2000_en_quad_is_stripped_and_blank => '\u{2000}',
    white_space_u2001_em_quad_is_stripped_and_blank => '\u{2001}',
    white_space_u2002_en_space_is_stripped_and_blank => '\u{2002}',
    white_space_u2003_em_space_is_stripped_and_blank => '\u{2003}',
    white_space_u2004_three_per_em_space_is_stripped_and_blank => '\u{2004}',
    white_space_u2005_four_per_em_space_is_stripped_and_blank => '\u{2005}',
    white_space_u2006_six_per_em_space_is_stripped_and_blank => '\u{2006}',
    white_space_u2007_figure_space_is_stripped_and_blank => '\u{2007}',
    white_space_u2008_punctuation_space_is_stripped_and_blank => '\u{2008}',
    white_space_u2009_thin_space_is_stripped_and_blank => '\u{2009}',
    white_space_u200a_hair_space_is_stripped_and_blank => '\u{200A}',
    white_space_u2028_line_separator_is_stripped_and_blank => '\u{2028}',
    white_space_u2029_paragraph_separator_is_stripped_and_blank => '\u{2029}',
    white_space_u202f_narrow_no_break_space_is_stripped_and_blank => '\u{202F}',
    white_space_u205f_medium_mathematical_space_is_stripped_and_blank => '\u{205F}',
    white_space_u3000_ideographic_space_is_stripped_and_blank => '\u{3000}',
}

#[test]
fn white_space_is_exactly_the_29_python_code_points() {
    let all: Vec<char> = (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|&c| is_py_whitespace(c))
        .collect();
    assert_eq!(all, PY_WHITE_SPACE.to_vec());
}

#[test]
fn white_space_is_not_rusts_char_is_whitespace() {
    // U+001C..U+001F are Python white space but not Rust's.
    for c in ['\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}'] {
        assert!(
            is_py_whitespace(c) && !c.is_whitespace(),
            "U+{:04X}",
            c as u32
        );
        assert_eq!(py_strip(&format!("{c}x{c}")), "x");
    }
}

#[test]
fn white_space_zero_width_space_u200b_is_not_stripped() {
    let z = '\u{200B}';
    assert!(!is_py_whitespace(z));
    assert!(!is_blank("\u{200B}"));
    assert_eq!(py_strip("\u{200B}x\u{200B}"), "\u{200B}x\u{200B}");
    assert_eq!(normalize_provider("\u{200B}Jira"), "\u{200B}jira");

    // The provider keeps it, so it is not "jira" and does not route.
    let mut v = base();
    v["provider"] = json!("\u{200B}jira");
    let r = ok(&v);
    assert!(body_str(&r).starts_with(concat!(
        "{\"provider\":\"\u{200B}jira\",\"workspace\":\"acme.atlassian.net\",",
        "\"external_resource_type\":null,\"external_resource_id\":null,"
    )));
    assert_eq!(
        r.idempotency_key,
        v1("\u{200B}jira|acme.atlassian.net|None|None|0|0|None")
    );

    // Not blank: a provider, workspace or doctrine mode of only U+200B is kept.
    let mut v = base();
    v["provider"] = json!("\u{200B}");
    v["workspace"] = json!("\u{200B}");
    v["doctrine_mode"] = json!("\u{200B}");
    v["doctrine_field_owners"] = json!({"\u{200B}": "\u{200B}"});
    let b = body_json(&ok(&v));
    assert_eq!(b["provider"], "\u{200B}");
    assert_eq!(b["workspace"], "\u{200B}");
    assert_eq!(b["doctrine_mode"], "\u{200B}");
    assert_eq!(b["doctrine_field_owners"], json!({"\u{200B}": "\u{200B}"}));

    // A routing credential keeps it.
    let mut v = base();
    v["credentials"]["project_key"] = json!("\u{200B}ACME");
    assert_eq!(body_json(&ok(&v))["external_resource_id"], "\u{200B}ACME");

    // In a credential token it is not stripped, so the token is refused.
    let mut v = base();
    v["credentials"]["token"] = json!("\u{200B}tok-123");
    assert_kind(&refused(&v), ErrorKind::InvalidAuthToken);
}

#[test]
fn white_space_byte_order_mark_ufeff_is_not_stripped() {
    assert!(!is_py_whitespace('\u{FEFF}'));
    assert!(!is_blank("\u{FEFF}"));
    assert_eq!(py_strip("\u{FEFF}x"), "\u{FEFF}x");
    assert_eq!(normalize_provider("\u{FEFF}jira"), "\u{FEFF}jira");

    let mut v = base();
    v["provider"] = json!("\u{FEFF}jira");
    v["workspace"] = json!("\u{FEFF}");
    let b = body_json(&ok(&v));
    assert_eq!(b["provider"], "\u{FEFF}jira");
    assert_eq!(b["workspace"], "\u{FEFF}");
    assert_eq!(b["external_resource_type"], Value::Null);

    let mut v = base();
    v["credentials"]["access_token"] = json!("\u{FEFF}");
    v["credentials"]["token"] = json!("tok-123");
    assert_kind(&refused(&v), ErrorKind::InvalidAuthToken);
}

#[test]
fn white_space_other_format_and_separator_like_characters_are_not_stripped() {
    // Not Python white space either: Mongolian vowel separator, word joiner,
    // zero-width (non-)joiners, C1 controls other than U+0085, U+007F.
    for c in [
        '\u{180E}', '\u{2060}', '\u{200C}', '\u{200D}', '\u{80}', '\u{9F}', '\u{7F}', '\u{0}',
    ] {
        assert!(!is_py_whitespace(c), "U+{:04X}", c as u32);
        let mut v = base();
        v["workspace"] = json!(format!("{c}w{c}"));
        let b = body_json(&ok(&v));
        assert_eq!(
            b["workspace"],
            json!(format!("{c}w{c}")),
            "U+{:04X}",
            c as u32
        );
    }
}

#[test]
fn white_space_inside_a_value_is_kept() {
    let mut v = base();
    v["workspace"] = json!(" acme \u{3000} site ");
    v["credentials"]["project_key"] = json!(" AC\u{1C}ME ");
    v["doctrine_mode"] = json!(" a b ");
    let b = body_json(&ok(&v));
    assert_eq!(b["workspace"], "acme \u{3000} site");
    assert_eq!(b["external_resource_id"], "AC\u{1C}ME");
    assert_eq!(b["doctrine_mode"], "a b");
}

// ---------------------------------------------------------------------------
// Section 2: provider lower-casing and aliases
// ---------------------------------------------------------------------------

#[test]
fn provider_is_lower_cased_and_routes() {
    for p in ["Jira", "JIRA", "jIrA", " JiRa\t", "\u{3000}JIRA\u{1F}"] {
        let mut v = base();
        v["provider"] = json!(p);
        let r = ok(&v);
        assert_eq!(body_str(&r), BASE_BODY, "provider {p:?}");
        assert_eq!(
            r.idempotency_key,
            v1("jira|acme.atlassian.net|jira_project|ACME|0|0|None")
        );
    }
}

#[test]
fn provider_lower_casing_dotted_capital_i_becomes_i_with_combining_dot() {
    // Python: "İ".lower() == "i\u0307" (two code points).
    assert_eq!(normalize_provider("İ"), "i\u{307}");
    let mut v = base();
    v["provider"] = json!("İ");
    let r = ok(&v);
    assert!(body_str(&r).starts_with("{\"provider\":\"i\u{307}\",\"workspace\""));
    assert_eq!(
        r.idempotency_key,
        v1("i\u{307}|acme.atlassian.net|None|None|0|0|None")
    );

    // Full lower-casing, not ASCII folding: "JİRA" is not "jira" and does not route.
    let mut v = base();
    v["provider"] = json!("JİRA");
    let b = body_json(&ok(&v));
    assert_eq!(b["provider"], "ji\u{307}ra");
    assert_eq!(b["external_resource_type"], Value::Null);
}

#[test]
fn provider_lower_casing_uses_final_sigma_at_word_end() {
    // Python: "ΟΔΟΣ".lower() == "οδος" (final sigma U+03C2 at the end).
    assert_eq!(normalize_provider("ΟΔΟΣ"), "\u{3BF}\u{3B4}\u{3BF}\u{3C2}");
    assert_eq!(normalize_provider("ΣΑ"), "\u{3C3}\u{3B1}");
    assert_eq!(normalize_provider("Σ"), "\u{3C3}");
    assert_eq!(normalize_provider("ΟΔΟΣ ΟΔΟΣ"), "οδος οδος");
    // Padding is stripped first, so the sigma is still word-final.
    assert_eq!(normalize_provider(" ΟΔΟΣ\u{1C}"), "οδος");
    let mut v = base();
    v["provider"] = json!("ΟΔΟΣ");
    let r = ok(&v);
    assert!(body_str(&r).starts_with("{\"provider\":\"οδος\","));
    assert_eq!(
        r.idempotency_key,
        v1("οδος|acme.atlassian.net|None|None|0|0|None")
    );
}

#[test]
fn provider_lower_casing_keeps_sharp_s() {
    // Python: "ß".lower() == "ß" (lower, not casefold), "ẞ".lower() == "ß".
    assert_eq!(normalize_provider("ß"), "ß");
    assert_eq!(normalize_provider("STRAẞE"), "straße");
    assert_eq!(normalize_provider("Straße"), "straße");
    let mut v = base();
    v["provider"] = json!("Straße");
    assert_eq!(body_json(&ok(&v))["provider"], "straße");
}

#[test]
fn provider_alias_azure_becomes_azure_devops() {
    for p in ["azure", "Azure", "AZURE", " azure\u{A0}"] {
        assert_eq!(normalize_provider(p), "azure_devops", "{p:?}");
        let mut v = base();
        v["provider"] = json!(p);
        let r = ok(&v);
        let b = body_json(&r);
        assert_eq!(b["provider"], "azure_devops");
        assert_eq!(b["external_resource_type"], Value::Null);
        assert_eq!(
            r.idempotency_key,
            v1("azure_devops|acme.atlassian.net|None|None|0|0|None")
        );
    }
}

#[test]
fn provider_alias_azure_devops_hyphen_becomes_azure_devops() {
    for p in [
        "azure-devops",
        "Azure-DevOps",
        "AZURE-DEVOPS",
        "\tAZURE-DEVOPS\u{2029}",
    ] {
        assert_eq!(normalize_provider(p), "azure_devops", "{p:?}");
        let mut v = base();
        v["provider"] = json!(p);
        assert_eq!(body_json(&ok(&v))["provider"], "azure_devops", "{p:?}");
    }
}

#[test]
fn provider_azure_devops_underscore_stays() {
    assert_eq!(normalize_provider("azure_devops"), "azure_devops");
    assert_eq!(normalize_provider("AZURE_DEVOPS"), "azure_devops");
    let mut v = base();
    v["provider"] = json!("azure_devops");
    assert_eq!(body_json(&ok(&v))["provider"], "azure_devops");
}

#[test]
fn provider_azure_with_inner_space_or_other_spelling_is_not_an_alias() {
    for (p, expect) in [
        ("azure devops", "azure devops"),
        ("Azure DevOps", "azure devops"),
        ("azuredevops", "azuredevops"),
        ("azure-", "azure-"),
        ("azure_", "azure_"),
        ("azure-devops-server", "azure-devops-server"),
        ("\u{200B}azure", "\u{200B}azure"),
    ] {
        assert_eq!(normalize_provider(p), expect, "{p:?}");
        let mut v = base();
        v["provider"] = json!(p);
        assert_eq!(body_json(&ok(&v))["provider"], expect, "{p:?}");
    }
}

#[test]
fn provider_other_values_pass_through_lower_cased() {
    for (p, expect) in [
        ("GitHub", "github"),
        ("beads", "beads"),
        ("Notion", "notion"),
        ("é漢🙂", "é漢🙂"),
    ] {
        let mut v = base();
        v["provider"] = json!(p);
        let r = ok(&v);
        assert!(
            body_str(&r).starts_with(&format!("{{\"provider\":\"{expect}\",")),
            "{p:?}: {}",
            body_str(&r)
        );
    }
}

// ---------------------------------------------------------------------------
// Section 2: workspace, not-configured, doctrine
// ---------------------------------------------------------------------------

#[test]
fn workspace_is_stripped() {
    let mut v = base();
    v["workspace"] = json!("\u{2003} acme.atlassian.net\n");
    let r = ok(&v);
    assert_eq!(body_str(&r), BASE_BODY);
    assert_eq!(
        r.idempotency_key,
        v1("jira|acme.atlassian.net|jira_project|ACME|0|0|None")
    );
}

#[test]
fn not_configured_blank_provider() {
    for p in ["", " ", "\t\n", "\u{3000}\u{1C}\u{85}"] {
        let mut v = base();
        v["provider"] = json!(p);
        let e = refused(&v);
        assert_kind(&e, ErrorKind::NotConfigured);
        assert!(
            e.message().contains("provider"),
            "names the field: {}",
            e.message()
        );
    }
}

#[test]
fn not_configured_blank_workspace() {
    for w in ["", " ", "\r\n", "\u{A0}\u{2028}"] {
        let mut v = base();
        v["workspace"] = json!(w);
        let e = refused(&v);
        assert_kind(&e, ErrorKind::NotConfigured);
        assert!(
            e.message().contains("workspace"),
            "names the field: {}",
            e.message()
        );
    }
}

#[test]
fn doctrine_mode_missing_defaults_to_external_authoritative() {
    let mut v = base();
    v.as_object_mut().unwrap().remove("doctrine_mode");
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("doctrine_mode"));
    let r = build_snapshot_payload_json(&text, &PublishOptions::default()).unwrap();
    assert_eq!(body_str(&r), BASE_BODY);
    // The typed form has no "missing": None is the same thing.
    assert_eq!(r, ok(&base()));
}

#[test]
fn doctrine_mode_null_empty_or_blank_defaults_to_external_authoritative() {
    for m in [json!(null), json!(""), json!(" "), json!("\u{1D}\u{3000}")] {
        let mut v = base();
        v["doctrine_mode"] = m.clone();
        assert_eq!(body_str(&ok(&v)), BASE_BODY, "doctrine_mode {m}");
    }
}

#[test]
fn doctrine_mode_is_stripped_and_otherwise_kept() {
    for (m, expect) in [
        ("local_authoritative", "local_authoritative"),
        (" split\t", "split"),
        ("Mixed Case", "Mixed Case"),
        ("\u{200B}", "\u{200B}"),
    ] {
        let mut v = base();
        v["doctrine_mode"] = json!(m);
        let r = ok(&v);
        let expect_body = BASE_BODY.replace(
            "\"doctrine_mode\":\"external_authoritative\"",
            &format!("\"doctrine_mode\":\"{}\"", py_json_str(expect)),
        );
        assert_eq!(body_str(&r), expect_body, "doctrine_mode {m:?}");
    }
}

#[test]
fn doctrine_field_owners_drop_blank_keys_and_values_keep_others_unstripped_in_order() {
    let mut v = base();
    // serde_json's preserve_order keeps this order in the JSON text and the typed pairs.
    v["doctrine_field_owners"] = json!({
        "title": "spec_kitty",
        "": "external",
        " status ": " external ",
        "  ": "spec_kitty",
        "labels": "",
        "body": " \t",
        "\u{3000}": "x",
        "assignees": "\u{200B}",
        "Priority": "external\n",
        "a": "b"
    });
    let r = ok(&v);
    let expect = BASE_BODY.replace(
        "\"doctrine_field_owners\":{}",
        concat!(
            "\"doctrine_field_owners\":{\"title\":\"spec_kitty\",\" status \":\" external \",",
            "\"assignees\":\"\u{200B}\",\"Priority\":\"external\\n\",\"a\":\"b\"}"
        ),
    );
    assert_eq!(body_str(&r), expect);
}

#[test]
fn doctrine_field_owners_keep_given_order_not_sorted() {
    let mut v = base();
    v["doctrine_field_owners"] = json!({"z": "1", "a": "2", "m": "3"});
    let r = ok(&v);
    assert!(
        body_str(&r).contains("\"doctrine_field_owners\":{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"}")
    );
}

#[test]
fn doctrine_field_owners_all_blank_is_an_empty_object() {
    let mut v = base();
    v["doctrine_field_owners"] = json!({"": "", " ": "x", "y": "\u{85}"});
    assert_eq!(body_str(&ok(&v)), BASE_BODY);
}

// ---------------------------------------------------------------------------
// Section 3: resource routing
// ---------------------------------------------------------------------------

#[test]
fn routing_jira_sends_project_key_as_jira_project() {
    let r = ok(&base());
    assert_eq!(body_str(&r), BASE_BODY);
    let got = resolve_resource_routing("jira", &[("project_key", "ACME")]).unwrap();
    assert_eq!(
        (got.resource_type, got.resource_id.as_str()),
        ("jira_project", "ACME")
    );
}

#[test]
fn routing_linear_sends_team_id_as_linear_team() {
    let mut v = base();
    v["provider"] = json!("linear");
    v["workspace"] = json!("acme");
    v["credentials"] = json!({"api_key": "lin_api_x", "team_id": "abc-123"});
    let r = ok(&v);
    assert!(body_str(&r).starts_with(concat!(
        r#"{"provider":"linear","workspace":"acme","external_resource_type":"linear_team","#,
        r#""external_resource_id":"abc-123","#
    )));
    assert_eq!(
        r.idempotency_key,
        v1("linear|acme|linear_team|abc-123|0|0|None")
    );
    let got = resolve_resource_routing("linear", &[("team_id", "abc-123")]).unwrap();
    assert_eq!(
        (got.resource_type, got.resource_id.as_str()),
        ("linear_team", "abc-123")
    );
}

#[test]
fn routing_missing_credential_is_null_and_null() {
    for (provider, creds) in [
        (
            "jira",
            json!({"base_url": "https://acme.atlassian.net", "email": "a@b.com", "api_token": "tok"}),
        ),
        ("jira", json!({"team_id": "abc-123"})),
        ("linear", json!({"api_key": "x"})),
        ("linear", json!({"project_key": "ACME"})),
        ("jira", json!({})),
    ] {
        let mut v = base();
        v["provider"] = json!(provider);
        v["credentials"] = creds.clone();
        let r = ok(&v);
        assert!(
            body_str(&r).contains(r#""external_resource_type":null,"external_resource_id":null,"#),
            "{provider} {creds}"
        );
        assert_eq!(
            r.idempotency_key,
            v1(&format!("{provider}|acme.atlassian.net|None|None|0|0|None"))
        );
    }
}

#[test]
fn routing_blank_credential_is_null_and_null() {
    for blank in ["", " ", "\t", "\u{3000}", "\u{1C}\u{1F}", "\u{85}\u{A0}"] {
        let mut v = base();
        v["credentials"]["project_key"] = json!(blank);
        let r = ok(&v);
        assert!(
            body_str(&r).contains(r#""external_resource_type":null,"external_resource_id":null,"#),
            "{blank:?}"
        );
        assert_eq!(
            r.idempotency_key,
            v1("jira|acme.atlassian.net|None|None|0|0|None")
        );
        assert_eq!(
            resolve_resource_routing("jira", &[("project_key", blank)]),
            None
        );
    }
}

#[test]
fn routing_padded_credential_is_stripped() {
    let mut v = base();
    v["credentials"]["project_key"] = json!("  ACME\u{2029}");
    let r = ok(&v);
    assert_eq!(body_str(&r), BASE_BODY);
    assert_eq!(
        r.idempotency_key,
        v1("jira|acme.atlassian.net|jira_project|ACME|0|0|None")
    );
    let mut v = base();
    v["provider"] = json!("linear");
    v["credentials"] = json!({"team_id": "\tT-1 \u{1E}"});
    assert_eq!(body_json(&ok(&v))["external_resource_id"], "T-1");
}

#[test]
fn routing_unknown_provider_is_null_and_null_even_with_credentials() {
    for p in [
        "beads",
        "notion",
        "github",
        "gitlab",
        "azure",
        "jira2",
        "jira-cloud",
        "linear_",
        "\u{200B}linear",
    ] {
        let mut v = base();
        v["provider"] = json!(p);
        v["credentials"] = json!({"project_key": "ACME", "team_id": "abc-123"});
        let r = ok(&v);
        assert!(
            body_str(&r).contains(r#""external_resource_type":null,"external_resource_id":null,"#),
            "{p}: {}",
            body_str(&r)
        );
    }
    assert_eq!(
        resolve_resource_routing("beads", &[("project_key", "ACME")]),
        None
    );
}

#[test]
fn routing_jira_ignores_team_id_and_linear_ignores_project_key() {
    let mut v = base();
    v["credentials"] = json!({"team_id": "abc-123"});
    assert_eq!(body_json(&ok(&v))["external_resource_id"], Value::Null);
    v["provider"] = json!("linear");
    v["credentials"] = json!({"project_key": "ACME"});
    assert_eq!(body_json(&ok(&v))["external_resource_id"], Value::Null);
    v["credentials"] = json!({"project_key": "ACME", "team_id": "T"});
    assert_eq!(body_json(&ok(&v))["external_resource_id"], "T");
}

#[test]
fn routing_uses_the_normalised_provider() {
    let mut v = base();
    v["provider"] = json!("\u{A0}JIRA ");
    assert_eq!(body_str(&ok(&v)), BASE_BODY);
    // The public function takes an already normalised provider, as the CLI's does.
    assert_eq!(
        resolve_resource_routing("Jira", &[("project_key", "ACME")]),
        None
    );
    assert_eq!(
        resolve_resource_routing(" jira", &[("project_key", "ACME")]),
        None
    );
}

#[test]
fn routing_fields_are_both_null_or_both_set_in_the_body() {
    let providers = ["jira", "linear", "beads", "JIRA", "azure"];
    let values = [None, Some(""), Some(" "), Some("X"), Some(" X ")];
    for p in providers {
        for pk in values {
            for team in values {
                let mut v = base();
                v["provider"] = json!(p);
                let mut creds = serde_json::Map::new();
                if let Some(x) = pk {
                    creds.insert("project_key".into(), json!(x));
                }
                if let Some(x) = team {
                    creds.insert("team_id".into(), json!(x));
                }
                v["credentials"] = Value::Object(creds);
                let b = body_json(&ok(&v));
                let (t, id) = (&b["external_resource_type"], &b["external_resource_id"]);
                assert_eq!(t.is_null(), id.is_null(), "{p} {pk:?} {team:?}: {t} {id}");
                let expect = match (normalize_provider(p).as_str(), pk, team) {
                    ("jira", Some(x), _) if !x.trim().is_empty() => {
                        Some(("jira_project", x.trim()))
                    }
                    ("linear", _, Some(x)) if !x.trim().is_empty() => {
                        Some(("linear_team", x.trim()))
                    }
                    _ => None,
                };
                match expect {
                    Some((et, eid)) => assert_eq!((t.as_str(), id.as_str()), (Some(et), Some(eid))),
                    None => assert!(t.is_null(), "{p} {pk:?} {team:?}"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Section 4: payload shape and encoding
// ---------------------------------------------------------------------------

#[test]
fn payload_keys_in_contract_order_whatever_the_input_order() {
    // Every object of the input written in a scrambled key order.
    let text = concat!(
        r#"{"checkpoint":{"updated_since":"2026-03-01T00:00:00+00:00","cursor":"c-42"},"#,
        r#""mappings":[{"updated_at":"u1","created_at":"c1","external_url":"https://x/1","external_key":null,"#,
        r#""external_id":"10001","workspace":"acme","system":"jira","wp_id":"WP01"}],"#,
        r#""issues":[{"updated_at":null,"labels":["l1","l2"],"assignees":["bob"],"priority":-7,"#,
        r#""issue_type":"Bug","status":"Done","body":null,"title":"T","#,
        r#""ref":{"url":null,"key":"K-1","id":"1","workspace":"w","system":"jira"}}],"#,
        r#""project_slug":"spec-kitty","project_uuid":"550e8400-e29b-41d4-a716-446655440000","#,
        r#""credentials":{"token":"tok-1","project_key":"ACME"},"doctrine_field_owners":{"z":"1","a":"2"},"#,
        r#""doctrine_mode":"m","workspace":"acme","provider":"jira","auth_token":null,"#,
        r#""server_url":"https://example.com"}"#
    );
    let expect = concat!(
        r#"{"provider":"jira","workspace":"acme","external_resource_type":"jira_project","#,
        r#""external_resource_id":"ACME","doctrine_mode":"m","doctrine_field_owners":{"z":"1","a":"2"},"#,
        r#""project_uuid":"550e8400-e29b-41d4-a716-446655440000","project_slug":"spec-kitty","#,
        r#""issues":[{"ref":{"system":"jira","workspace":"w","id":"1","key":"K-1","url":null},"title":"T","#,
        r#""body":null,"status":"Done","issue_type":"Bug","priority":-7,"assignees":["bob"],"#,
        r#""labels":["l1","l2"],"updated_at":null}],"#,
        r#""mappings":[{"wp_id":"WP01","system":"jira","workspace":"acme","external_id":"10001","#,
        r#""external_key":null,"external_url":"https://x/1","created_at":"c1","updated_at":"u1"}],"#,
        r#""checkpoint":{"cursor":"c-42","updated_since":"2026-03-01T00:00:00+00:00"}}"#
    );
    let v: Value = serde_json::from_str(text).unwrap();
    let r = ok(&v);
    assert_eq!(body_str(&r), expect);
    assert_eq!(r.endpoint, ENDPOINT);
    assert_eq!(
        r.idempotency_key,
        v1("jira|acme|jira_project|ACME|1|1|c-42")
    );
    assert_eq!(r.headers, headers(&r.idempotency_key, Some("tok-1")));
}

#[test]
fn payload_issues_and_mappings_in_given_order_with_all_fields() {
    let mut v = base();
    v["project_uuid"] = json!("u");
    v["project_slug"] = json!("s");
    v["issues"] = json!([issue("2", "b"), issue("1", "a")]);
    v["mappings"] = json!([mapping("WP02"), mapping("WP01")]);
    let m = |wp: &str| {
        format!(
            concat!(
                r#"{{"wp_id":"{}","system":"jira","workspace":"acme.atlassian.net","external_id":"10001","#,
                r#""external_key":"ACME-1","external_url":null,"created_at":"2026-03-01T00:00:00+00:00","#,
                r#""updated_at":"2026-03-02T00:00:00+00:00"}}"#
            ),
            wp
        )
    };
    let expect = BASE_BODY
        .replace(
            r#""project_uuid":null,"project_slug":null"#,
            r#""project_uuid":"u","project_slug":"s""#,
        )
        .replace(
            r#""issues":[]"#,
            &format!(
                r#""issues":[{},{}]"#,
                issue_body("2", "b"),
                issue_body("1", "a")
            ),
        )
        .replace(
            r#""mappings":[]"#,
            &format!(r#""mappings":[{},{}]"#, m("WP02"), m("WP01")),
        );
    assert_eq!(body_str(&ok(&v)), expect);
}

#[test]
fn payload_issue_nullable_fields_written_as_null_and_lists_as_given() {
    let mut v = base();
    v["issues"] = json!([{
        "ref": {"system": "linear", "workspace": "w", "id": "i", "key": null, "url": null},
        "title": "", "body": null, "status": "", "issue_type": "", "priority": null,
        "assignees": [], "labels": ["", " ", "x"], "updated_at": null
    }]);
    let expect = BASE_BODY.replace(
        r#""issues":[]"#,
        concat!(
            r#""issues":[{"ref":{"system":"linear","workspace":"w","id":"i","key":null,"url":null},"#,
            r#""title":"","body":null,"status":"","issue_type":"","priority":null,"assignees":[],"#,
            r#""labels":[""," ","x"],"updated_at":null}]"#
        ),
    );
    assert_eq!(body_str(&ok(&v)), expect);
}

#[test]
fn payload_priority_is_an_integer() {
    for p in [0i64, 1, -1, 42, i64::MAX, i64::MIN] {
        let mut v = base();
        let mut i = issue("1", "t");
        i["priority"] = json!(p);
        v["issues"] = json!([i]);
        let body = body_str(&ok(&v)).to_owned();
        assert!(body.contains(&format!(",\"priority\":{p},")), "{p}: {body}");
    }
}

#[test]
fn payload_checkpoint_null_is_cursor_null_updated_since_null() {
    let r = ok(&base());
    assert!(body_str(&r).ends_with(r#","checkpoint":{"cursor":null,"updated_since":null}}"#));
    // The same bytes as a checkpoint row with both values null.
    let mut v = base();
    v["checkpoint"] = json!({"cursor": null, "updated_since": null});
    let row = ok(&v);
    assert_eq!(row.body, r.body);
    assert_eq!(row.idempotency_key, r.idempotency_key);
}

#[test]
fn payload_checkpoint_values_are_written() {
    let mut v = base();
    v["checkpoint"] = json!({"cursor": "abc", "updated_since": "2026-03-01T00:00:00+00:00"});
    assert!(body_str(&ok(&v)).ends_with(
        r#","checkpoint":{"cursor":"abc","updated_since":"2026-03-01T00:00:00+00:00"}}"#
    ));
    v["checkpoint"] = json!({"cursor": null, "updated_since": "x"});
    assert!(body_str(&ok(&v)).ends_with(r#","checkpoint":{"cursor":null,"updated_since":"x"}}"#));
}

#[test]
fn payload_project_uuid_and_slug_written_as_given() {
    let mut v = base();
    v["project_uuid"] = json!(" 550e8400 ");
    v["project_slug"] = json!("");
    let expect = BASE_BODY.replace(
        r#""project_uuid":null,"project_slug":null"#,
        r#""project_uuid":" 550e8400 ","project_slug":"""#,
    );
    assert_eq!(body_str(&ok(&v)), expect);
}

#[test]
fn encoding_is_compact_json() {
    let mut v = two_issues();
    v["doctrine_field_owners"] = json!({"a": "b"});
    let r = ok(&v);
    let body = body_str(&r);
    // No white space outside strings: every space in the body is inside a value.
    let reparsed: Value = serde_json::from_str(body).unwrap();
    assert_eq!(serde_json::to_string(&reparsed).unwrap(), body);
}

/// One control character in a top-level string, a field-owner key and value,
/// the routing id (inside, so not stripped) and an issue title; the body bytes
/// are compared whole.
fn check_control_character(b: u8) {
    let c = b as char;
    let esc = match b {
        0x08 => "\\b".to_owned(),
        0x09 => "\\t".to_owned(),
        0x0A => "\\n".to_owned(),
        0x0C => "\\f".to_owned(),
        0x0D => "\\r".to_owned(),
        _ => format!("\\u00{b:02x}"),
    };
    assert_eq!(py_json_char(c), esc);
    let mut v = base();
    v["project_slug"] = json!(format!("{c}"));
    v["project_uuid"] = json!(format!("a{c}b"));
    v["doctrine_field_owners"] = json!({ format!("k{c}"): format!("{c}v") });
    v["credentials"]["project_key"] = json!(format!("AC{c}ME"));
    v["issues"] = json!([issue("1", &format!("{c}{c}"))]);
    let expect = BASE_BODY
        .replace(
            r#""external_resource_id":"ACME""#,
            &format!(r#""external_resource_id":"AC{esc}ME""#),
        )
        .replace(
            r#""doctrine_field_owners":{}"#,
            &format!(r#""doctrine_field_owners":{{"k{esc}":"{esc}v"}}"#),
        )
        .replace(
            r#""project_uuid":null,"project_slug":null"#,
            &format!(r#""project_uuid":"a{esc}b","project_slug":"{esc}""#),
        )
        .replace(
            r#""issues":[]"#,
            &format!(r#""issues":[{}]"#, issue_body("1", &format!("{esc}{esc}"))),
        );
    let r = ok(&v);
    assert_eq!(body_str(&r), expect, "U+{b:04X}");
    assert!(
        !r.body.iter().any(|&x| x < 0x20),
        "U+{b:04X}: a raw control byte in the body"
    );
}

macro_rules! control_character_tests {
    ($($name:ident => $b:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check_control_character($b);
            }
        )*

        #[test]
        fn encoding_control_character_tests_cover_u0000_to_u001f() {
            let covered: Vec<u8> = vec![$($b),*];
            assert_eq!(covered, (0u8..0x20).collect::<Vec<_>>());
        }
    };
}

control_character_tests! {
    encoding_u0000_is_escaped_u0000 => 0x00,
    encoding_u0001_is_escaped_u0001 => 0x01,
    encoding_u0002_is_escaped_u0002 => 0x02,
    encoding_u0003_is_escaped_u0003 => 0x03,
    encoding_u0004_is_escaped_u0004 => 0x04,
    encoding_u0005_is_escaped_u0005 => 0x05,
    encoding_u0006_is_escaped_u0006 => 0x06,
    encoding_u0007_is_escaped_u0007 => 0x07,
    encoding_u0008_is_escaped_short_b => 0x08,
    encoding_u0009_is_escaped_short_t => 0x09,
    encoding_u000a_is_escaped_short_n => 0x0A,
    encoding_u000b_is_escaped_u000b => 0x0B,
    encoding_u000c_is_escaped_short_f => 0x0C,
    encoding_u000d_is_escaped_short_r => 0x0D,
    encoding_u000e_is_escaped_u000e => 0x0E,
    encoding_u000f_is_escaped_u000f => 0x0F,
    encoding_u0010_is_escaped_u0010 => 0x10,
    encoding_u0011_is_escaped_u0011 => 0x11,
    encoding_u0012_is_escaped_u0012 => 0x12,
    encoding_u0013_is_escaped_u0013 => 0x13,
    encoding_u0014_is_escaped_u0014 => 0x14,
    encoding_u0015_is_escaped_u0015 => 0x15,
    encoding_u0016_is_escaped_u0016 => 0x16,
    encoding_u0017_is_escaped_u0017 => 0x17,
    encoding_u0018_is_escaped_u0018 => 0x18,
    encoding_u0019_is_escaped_u0019 => 0x19,
    encoding_u001a_is_escaped_u001a => 0x1A,
    encoding_u001b_is_escaped_u001b => 0x1B,
    encoding_u001c_is_escaped_u001c => 0x1C,
    encoding_u001d_is_escaped_u001d => 0x1D,
    encoding_u001e_is_escaped_u001e => 0x1E,
    encoding_u001f_is_escaped_u001f => 0x1F,
}

#[test]
fn encoding_control_escapes_use_lower_case_hex() {
    let mut v = base();
    v["project_slug"] = json!("\u{1B}\u{1F}\u{0E}");
    let r = ok(&v);
    assert!(body_str(&r).contains(r#""project_slug":"\u001b\u001f\u000e""#));
    assert!(!body_str(&r).contains("\\u001B") && !body_str(&r).contains("\\u001F"));
}

#[test]
fn encoding_quote_and_backslash_are_escaped() {
    let mut v = base();
    v["project_slug"] = json!("a\"b\\c\\\"");
    v["doctrine_field_owners"] = json!({"\"k\\": "\\v\""});
    let expect = BASE_BODY
        .replace(
            r#""doctrine_field_owners":{}"#,
            r#""doctrine_field_owners":{"\"k\\":"\\v\""}"#,
        )
        .replace(r#""project_slug":null"#, r#""project_slug":"a\"b\\c\\\"""#);
    assert_eq!(body_str(&ok(&v)), expect);
}

#[test]
fn encoding_slash_is_not_escaped() {
    let mut v = base();
    v["project_slug"] = json!("a/b//c</script>");
    let r = ok(&v);
    let expect = BASE_BODY.replace(
        r#""project_slug":null"#,
        r#""project_slug":"a/b//c</script>""#,
    );
    assert_eq!(body_str(&r), expect);
    // Escaped in the JSON form of the input, still written raw.
    let text = with_raw(&base(), "project_slug", r#""a\/b\/\/c<\/script>""#);
    let r2 = build_snapshot_payload_json(&text, &PublishOptions::default()).unwrap();
    assert_eq!(r2.body, r.body);
}

#[test]
fn encoding_delete_u007f_is_not_escaped() {
    let mut v = base();
    v["project_slug"] = json!("a\u{7F}b");
    let r = ok(&v);
    let expect = BASE_BODY.replace(r#""project_slug":null"#, "\"project_slug\":\"a\u{7F}b\"");
    assert_eq!(body_str(&r), expect);
    assert!(r.body.windows(3).any(|w| w == b"a\x7fb"));
}

#[test]
fn encoding_non_ascii_is_raw_utf8() {
    // C1 controls, separators and astral characters included: Python's
    // ensure_ascii=False escapes none of them.
    let s = "é漢🙂İΣς\u{80}\u{85}\u{9F}\u{A0}\u{2028}\u{2029}\u{200B}\u{FEFF}\u{10FFFF}";
    let mut v = base();
    v["project_slug"] = json!(s);
    v["workspace"] = json!("ünïcødé");
    let r = ok(&v);
    let expect = BASE_BODY
        .replace(
            r#""workspace":"acme.atlassian.net""#,
            "\"workspace\":\"ünïcødé\"",
        )
        .replace(
            r#""project_slug":null"#,
            &format!("\"project_slug\":\"{s}\""),
        );
    assert_eq!(r.body, expect.as_bytes());
    assert!(
        !body_str(&r).contains("\\u"),
        "no \\u escapes for non-ASCII"
    );
    assert!(
        r.body.windows(2).any(|w| w == [0xC3, 0xA9]),
        "é as raw UTF-8"
    );
    assert!(
        r.body.windows(4).any(|w| w == [0xF0, 0x9F, 0x99, 0x82]),
        "🙂 as raw UTF-8"
    );
}

#[test]
fn encoding_non_ascii_given_as_escapes_in_the_json_form_is_written_raw() {
    let text = with_raw(
        &base(),
        "project_slug",
        r#""\u00e9\u6F22\ud83d\ude42\u2028\u0041""#,
    );
    let r = build_snapshot_payload_json(&text, &PublishOptions::default()).unwrap();
    assert_eq!(
        body_str(&r),
        BASE_BODY.replace(
            r#""project_slug":null"#,
            "\"project_slug\":\"é漢🙂\u{2028}A\""
        )
    );
}

// ---------------------------------------------------------------------------
// Section 5: idempotency keys
// ---------------------------------------------------------------------------

#[test]
fn v1_key_is_sha256_of_the_documented_string() {
    let mut v = two_issues();
    v["provider"] = json!(" Jira ");
    v["workspace"] = json!(" acme.atlassian.net ");
    v["credentials"]["project_key"] = json!(" ACME ");
    let r = ok(&v);
    let expect = v1("jira|acme.atlassian.net|jira_project|ACME|2|1|c1");
    assert_eq!(r.idempotency_key, expect);
    assert_eq!(header(&r, "Idempotency-Key"), Some(expect.as_str()));
    assert_eq!(r.idempotency_key.len(), 64);
    assert!(
        r.idempotency_key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    // The public function computes the same.
    let f = V1Fields {
        provider: "jira",
        workspace: "acme.atlassian.net",
        resource_type: Some("jira_project"),
        resource_id: Some("ACME"),
        issues: 2,
        mappings: 1,
        cursor: Some("c1"),
    };
    assert_eq!(v1_key(&f), expect);
}

#[test]
fn v1_key_writes_none_for_null_type_id_and_cursor() {
    let mut v = base();
    v["provider"] = json!("beads");
    let r = ok(&v);
    assert_eq!(
        r.idempotency_key,
        v1("beads|acme.atlassian.net|None|None|0|0|None")
    );
    let f = V1Fields {
        provider: "beads",
        workspace: "acme.atlassian.net",
        resource_type: None,
        resource_id: None,
        issues: 0,
        mappings: 0,
        cursor: None,
    };
    assert_eq!(v1_key(&f), r.idempotency_key);
    // A checkpoint row with a null cursor: the cursor is still None.
    v["checkpoint"] = json!({"cursor": null, "updated_since": "2026-03-01T00:00:00+00:00"});
    assert_eq!(ok(&v).idempotency_key, r.idempotency_key);
}

#[test]
fn v1_key_cursor_string_none_equals_a_null_cursor_as_in_python() {
    // str(None) == "None": the CLI cannot tell them apart, neither may we.
    let mut v = base();
    v["checkpoint"] = json!({"cursor": "None", "updated_since": null});
    assert_eq!(ok(&v).idempotency_key, ok(&base()).idempotency_key);
}

#[test]
fn v1_key_changes_with_provider() {
    let key = |p: &str| {
        let mut v = base();
        v["provider"] = json!(p);
        ok(&v).idempotency_key
    };
    assert_eq!(
        key("github"),
        v1("github|acme.atlassian.net|None|None|0|0|None")
    );
    assert_eq!(
        key("gitlab"),
        v1("gitlab|acme.atlassian.net|None|None|0|0|None")
    );
    assert_ne!(key("github"), key("gitlab"));
    // The normalised provider, so case and padding do not change it.
    assert_eq!(key("GitHub "), key("github"));
}

#[test]
fn v1_key_changes_with_workspace() {
    let key = |w: &str| {
        let mut v = base();
        v["workspace"] = json!(w);
        ok(&v).idempotency_key
    };
    assert_eq!(
        key("a.atlassian.net"),
        v1("jira|a.atlassian.net|jira_project|ACME|0|0|None")
    );
    assert_ne!(key("a.atlassian.net"), key("b.atlassian.net"));
    assert_eq!(key(" a.atlassian.net\u{3000}"), key("a.atlassian.net"));
}

#[test]
fn v1_key_changes_with_routing_id() {
    let key = |pk: &str| {
        let mut v = base();
        v["credentials"]["project_key"] = json!(pk);
        ok(&v).idempotency_key
    };
    assert_eq!(
        key("ACME"),
        v1("jira|acme.atlassian.net|jira_project|ACME|0|0|None")
    );
    assert_eq!(
        key("BETA"),
        v1("jira|acme.atlassian.net|jira_project|BETA|0|0|None")
    );
    assert_ne!(key("ACME"), key("BETA"));
    assert_ne!(key("ACME"), key(""));
}

#[test]
fn v1_key_changes_with_issue_count() {
    let key = |n: usize| {
        let mut v = base();
        v["issues"] = Value::Array((0..n).map(|i| issue(&i.to_string(), "t")).collect());
        ok(&v).idempotency_key
    };
    assert_eq!(
        key(1),
        v1("jira|acme.atlassian.net|jira_project|ACME|1|0|None")
    );
    assert_eq!(
        key(12),
        v1("jira|acme.atlassian.net|jira_project|ACME|12|0|None")
    );
    assert_ne!(key(1), key(2));
    assert_ne!(key(0), key(1));
}

#[test]
fn v1_key_changes_with_mapping_count() {
    let key = |n: usize| {
        let mut v = base();
        v["mappings"] = Value::Array((0..n).map(|i| mapping(&format!("WP{i:02}"))).collect());
        ok(&v).idempotency_key
    };
    assert_eq!(
        key(3),
        v1("jira|acme.atlassian.net|jira_project|ACME|0|3|None")
    );
    assert_ne!(key(0), key(1));
    assert_ne!(key(1), key(2));
}

#[test]
fn v1_key_changes_with_cursor() {
    let key = |c: Value| {
        let mut v = base();
        v["checkpoint"] = json!({"cursor": c, "updated_since": null});
        ok(&v).idempotency_key
    };
    assert_eq!(
        key(json!("c1")),
        v1("jira|acme.atlassian.net|jira_project|ACME|0|0|c1")
    );
    assert_ne!(key(json!("c1")), key(json!("c2")));
    assert_ne!(key(json!("c1")), key(json!(null)));
    assert_ne!(key(json!("")), key(json!(null)));
}

#[test]
fn v1_key_does_not_change_with_updated_since() {
    let key = |s: Value| {
        let mut v = base();
        v["checkpoint"] = json!({"cursor": "c", "updated_since": s});
        ok(&v).idempotency_key
    };
    assert_eq!(key(json!("2026-01-01")), key(json!("2026-02-01")));
    assert_eq!(key(json!(null)), key(json!("2026-02-01")));
}

#[test]
fn v1_key_does_not_change_with_an_edited_issue_title_known_weakness() {
    let mut a = base();
    a["issues"] = json!([issue("1", "Original title")]);
    let mut b = base();
    b["issues"] = json!([issue("1", "Edited title")]);
    let (ra, rb) = (ok(&a), ok(&b));
    assert_ne!(ra.body, rb.body);
    assert_eq!(ra.idempotency_key, rb.idempotency_key);
    assert_eq!(
        ra.idempotency_key,
        v1("jira|acme.atlassian.net|jira_project|ACME|1|0|None")
    );
    // Nor with other content that is not counted.
    let mut c = base();
    c["issues"] = json!([issue("99", "Original title")]);
    c["doctrine_mode"] = json!("other");
    c["project_slug"] = json!("slug");
    assert_eq!(ok(&c).idempotency_key, ra.idempotency_key);
    // The content scheme tells them apart.
    assert_ne!(
        ok_content(&a).idempotency_key,
        ok_content(&b).idempotency_key
    );
}

#[test]
fn content_key_is_sha256_of_the_body_bytes() {
    for v in [base(), two_issues()] {
        let r = ok_content(&v);
        assert_eq!(r.idempotency_key, sha256_hex(&r.body));
        assert_eq!(r.idempotency_key, content_key(&r.body));
        assert_eq!(
            header(&r, "Idempotency-Key"),
            Some(r.idempotency_key.as_str())
        );
        // The body does not depend on the scheme.
        assert_eq!(r.body, ok(&v).body);
    }
    assert_eq!(
        content_key(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn idempotency_default_scheme_is_v1() {
    assert_eq!(IdempotencyScheme::default(), IdempotencyScheme::V1);
    assert_eq!(PublishOptions::default().idempotency, IdempotencyScheme::V1);
    assert_eq!(
        IdempotencyScheme::from_name("v1"),
        Some(IdempotencyScheme::V1)
    );
    assert_eq!(
        IdempotencyScheme::from_name("content"),
        Some(IdempotencyScheme::Content)
    );
    assert_eq!(IdempotencyScheme::from_name("V1"), None);
}

// ---------------------------------------------------------------------------
// Section 6: endpoint
// ---------------------------------------------------------------------------

fn endpoint_of(url: &str) -> Result<String, PublishError> {
    let direct = endpoint(url);
    let mut v = base();
    v["server_url"] = json!(url);
    let built = both(&v, &PublishOptions::default());
    match (&direct, &built) {
        (Ok(e), Ok(r)) => assert_eq!(e, &r.endpoint, "{url:?}"),
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{url:?}"),
        _ => {
            panic!("request::endpoint and the request disagree for {url:?}: {direct:?} / {built:?}")
        }
    }
    direct
}

fn refused_url(url: &str) -> PublishError {
    let e = endpoint_of(url).expect_err(url);
    assert_kind(&e, ErrorKind::InvalidServerUrl);
    assert!(
        e.message().contains("server_url"),
        "names the field: {}",
        e.message()
    );
    e
}

#[test]
fn endpoint_is_server_url_plus_snapshots_path() {
    assert_eq!(SNAPSHOTS_PATH, "/api/v1/connectors/trackers/snapshots/");
    assert_eq!(endpoint_of(SERVER).unwrap(), ENDPOINT);
    assert_eq!(ok(&base()).endpoint, ENDPOINT);
}

#[test]
fn endpoint_strips_every_trailing_slash() {
    for url in [
        "https://example.com/",
        "https://example.com//",
        "https://example.com///////",
    ] {
        assert_eq!(endpoint_of(url).unwrap(), ENDPOINT, "{url}");
    }
    assert_eq!(
        endpoint_of("https://example.com/saas//").unwrap(),
        "https://example.com/saas/api/v1/connectors/trackers/snapshots/"
    );
    // Only trailing ones.
    assert_eq!(
        endpoint_of("https://example.com//a//b/").unwrap(),
        "https://example.com//a//b/api/v1/connectors/trackers/snapshots/"
    );
}

#[test]
fn endpoint_accepts_http_and_https_case_insensitively_and_keeps_the_url_as_given() {
    for url in [
        "http://example.com",
        "https://example.com",
        "HTTP://example.com",
        "HTTPS://EXAMPLE.COM",
        "HtTpS://Example.com:8443/Base",
        "http://localhost:8000",
        "http://127.0.0.1",
    ] {
        assert_eq!(
            endpoint_of(url).unwrap(),
            format!("{url}{SNAPSHOTS_PATH}"),
            "{url}"
        );
    }
}

#[test]
fn endpoint_accepts_ipv6_host_with_port() {
    assert_eq!(
        endpoint_of("http://[::1]:8080").unwrap(),
        "http://[::1]:8080/api/v1/connectors/trackers/snapshots/"
    );
    assert_eq!(
        endpoint_of("https://[2001:db8::1]/").unwrap(),
        "https://[2001:db8::1]/api/v1/connectors/trackers/snapshots/"
    );
}

#[test]
fn endpoint_refuses_other_schemes() {
    for url in [
        "ftp://example.com",
        "file:///etc/passwd",
        "ws://example.com",
        "httpx://example.com",
        "http+unix://example.com",
        "mailto:a@example.com",
        "javascript:alert(1)",
    ] {
        refused_url(url);
    }
}

#[test]
fn endpoint_refuses_a_url_without_scheme() {
    for url in [
        "example.com",
        "example.com/api",
        "//example.com",
        "://example.com",
        "",
        "/",
        "localhost:8000",
    ] {
        refused_url(url);
    }
}

#[test]
fn endpoint_refuses_a_url_without_host() {
    for url in [
        "https://",
        "https:///",
        "https:///path",
        "http://:8080",
        "http://?q=1",
        "http://#frag",
        "https:example.com",
    ] {
        refused_url(url);
    }
}

#[test]
fn endpoint_refuses_user_info_with_password_without_repeating_it() {
    for url in [
        "https://alice:hunter2secret@example.com",
        "https://alice:hunter2secret@example.com/",
        "HTTP://alice:hunter2secret@example.com:8080/base",
        "https://:hunter2secret@example.com",
    ] {
        let e = refused_url(url);
        assert!(
            !e.message().contains("hunter2secret"),
            "{url}: {}",
            e.message()
        );
        assert!(!e.message().contains("alice"), "{url}: {}", e.message());
    }
}

#[test]
fn endpoint_refuses_user_info_without_password_without_repeating_it() {
    for url in [
        "https://alice@example.com",
        "https://alice@example.com/x",
        "https://@example.com",
    ] {
        let e = refused_url(url);
        assert!(!e.message().contains("alice"), "{url}: {}", e.message());
    }
}

#[test]
fn endpoint_refuses_an_authority_that_is_not_host_and_port() {
    for url in [
        "https://example.com[y",
        "https://ex]ample.com",
        "http://a:1:2",
        "https://example.com:80:80",
        "https://[:]",
        "https://[1.2.3.4]",
    ] {
        refused_url(url);
    }
}

#[test]
fn endpoint_accepts_a_port_with_leading_zeros_as_the_cli_does() {
    for url in ["https://example.com:000080", "http://localhost:0000008000/"] {
        let expect = format!("{}{SNAPSHOTS_PATH}", url.trim_end_matches('/'));
        assert_eq!(endpoint_of(url).unwrap(), expect, "{url}");
    }
}

#[test]
fn endpoint_accepts_ports_and_an_empty_port() {
    for url in [
        "https://example.com:443",
        "http://example.com:0",
        "http://example.com:65535",
        "https://example.com:",
    ] {
        assert_eq!(
            endpoint_of(url).unwrap(),
            format!("{url}{SNAPSHOTS_PATH}"),
            "{url}"
        );
    }
}

#[test]
fn endpoint_at_sign_after_the_host_is_not_user_info() {
    for url in [
        "https://example.com/a@b",
        "https://example.com?x=a@b",
        "https://example.com#a@b",
    ] {
        assert_eq!(
            endpoint_of(url).unwrap(),
            format!("{url}{SNAPSHOTS_PATH}"),
            "{url}"
        );
    }
}

// ---------------------------------------------------------------------------
// Section 6: token
// ---------------------------------------------------------------------------

fn token_of(auth_token: Value, creds: Value) -> Result<Option<String>, PublishError> {
    let mut v = base();
    v["auth_token"] = auth_token;
    v["credentials"] = creds;
    both(&v, &PublishOptions::default()).map(|r| {
        assert_eq!(
            r.headers.len(),
            if header(&r, "Authorization").is_some() {
                3
            } else {
                2
            }
        );
        header(&r, "Authorization").map(|h| {
            h.strip_prefix("Bearer ")
                .unwrap_or_else(|| panic!("not a bearer header: {h}"))
                .to_owned()
        })
    })
}

#[test]
fn token_explicit_is_used_as_given_when_non_empty() {
    let creds = json!({"access_token": "acc", "token": "tok"});
    assert_eq!(
        token_of(json!("explicit-1"), creds.clone())
            .unwrap()
            .as_deref(),
        Some("explicit-1")
    );
    assert_eq!(
        token_of(json!("x"), json!({})).unwrap().as_deref(),
        Some("x")
    );
    let got = resolve_token(
        Some("explicit-1"),
        &[("access_token", "acc"), ("token", "tok")],
    )
    .unwrap();
    assert_eq!(got, Some("explicit-1"));
}

#[test]
fn token_explicit_is_not_stripped() {
    // Used as given, so padding makes it an invalid bearer token (section 9).
    for t in [
        " tok-123",
        "tok-123 ",
        "tok-123\n",
        "\r\ntok-123",
        " ",
        "\u{3000}",
    ] {
        let e = token_of(json!(t), json!({"token": "fallback-123"})).expect_err(t);
        assert_kind(&e, ErrorKind::InvalidAuthToken);
        assert!(!e.message().contains("tok-123") && !e.message().contains("fallback-123"));
        assert!(
            e.message().contains("auth_token"),
            "names the field: {}",
            e.message()
        );
    }
}

#[test]
fn token_explicit_empty_or_null_falls_back_to_credentials() {
    for explicit in [json!(null), json!("")] {
        let got = token_of(
            explicit.clone(),
            json!({"access_token": "acc", "token": "tok"}),
        )
        .unwrap();
        assert_eq!(got.as_deref(), Some("acc"), "{explicit}");
        let got = token_of(explicit.clone(), json!({"token": "tok"})).unwrap();
        assert_eq!(got.as_deref(), Some("tok"), "{explicit}");
    }
    assert_eq!(
        resolve_token(Some(""), &[("token", "tok")]).unwrap(),
        Some("tok")
    );
    assert_eq!(
        resolve_token(None, &[("token", "tok")]).unwrap(),
        Some("tok")
    );
}

#[test]
fn token_access_token_chosen_when_present_and_non_empty() {
    let got = token_of(json!(null), json!({"token": "tok", "access_token": "acc"})).unwrap();
    assert_eq!(got.as_deref(), Some("acc"));
}

#[test]
fn token_empty_access_token_falls_back_to_token() {
    let got = token_of(json!(null), json!({"access_token": "", "token": "tok"})).unwrap();
    assert_eq!(got.as_deref(), Some("tok"));
    let got = token_of(json!(null), json!({"access_token": ""})).unwrap();
    assert_eq!(got, None);
}

#[test]
fn token_chosen_credential_value_is_stripped() {
    let got = token_of(json!(null), json!({"access_token": " \tacc-1\u{3000}"})).unwrap();
    assert_eq!(got.as_deref(), Some("acc-1"));
    let got = token_of(json!(null), json!({"token": "\u{1C}tok-1\n"})).unwrap();
    assert_eq!(got.as_deref(), Some("tok-1"));
    assert_eq!(resolve_token(None, &[("token", " t ")]).unwrap(), Some("t"));
}

#[test]
fn token_whitespace_only_access_token_hides_token() {
    for ws in [" ", "\t", "\u{85}", "\u{1F}\u{3000}"] {
        let got = token_of(json!(null), json!({"access_token": ws, "token": "tok"})).unwrap();
        assert_eq!(got, None, "{ws:?}");
        assert_eq!(
            resolve_token(None, &[("access_token", ws), ("token", "tok")]).unwrap(),
            None
        );
    }
}

#[test]
fn token_none_at_all_means_no_authorization_header() {
    for creds in [
        json!({}),
        json!({"token": ""}),
        json!({"token": "  "}),
        json!({"api_token": "x"}),
    ] {
        let mut v = base();
        v["credentials"] = creds.clone();
        let r = ok(&v);
        assert_eq!(r.headers.len(), 2, "{creds}");
        assert_eq!(header(&r, "Authorization"), None);
    }
}

/// A token with `bad` in it, from every source, is refused and never repeated.
fn check_bad_token_character(bad: char) {
    let cp = format!("U+{:04X}", bad as u32);
    let inner = format!("secretA{bad}secretB");
    let sources = [
        (json!(inner), json!({}), "auth_token"),
        (json!(format!("{bad}secretAB")), json!({}), "auth_token"),
        (json!(format!("secretAB{bad}")), json!({}), "auth_token"),
        (json!(null), json!({"access_token": inner}), "access_token"),
        (json!(""), json!({"token": inner}), "token"),
    ];
    for (explicit, creds, field) in sources {
        let e = token_of(explicit.clone(), creds.clone()).expect_err(&cp);
        assert_kind(&e, ErrorKind::InvalidAuthToken);
        let m = e.message();
        assert!(
            !m.contains("secretA") && !m.contains("secretB"),
            "{cp}: repeats the token: {m}"
        );
        assert!(m.contains(field), "{cp}: does not name {field}: {m}");
        let got = resolve_token(
            explicit.as_str(),
            &[("access_token", creds["access_token"].as_str().unwrap_or(""))],
        )
        .err()
        .map(|e| e.kind());
        if explicit.as_str().is_some_and(|s| !s.is_empty()) {
            assert_eq!(
                got,
                Some(ErrorKind::InvalidAuthToken),
                "{cp}: resolve_token"
            );
        }
    }
}

#[test]
fn token_with_space_is_invalid_auth_token() {
    check_bad_token_character(' ');
}

#[test]
fn token_with_tab_is_invalid_auth_token() {
    check_bad_token_character('\t');
}

#[test]
fn token_with_carriage_return_is_invalid_auth_token() {
    check_bad_token_character('\r');
}

#[test]
fn token_with_line_feed_is_invalid_auth_token() {
    check_bad_token_character('\n');
    // A header injection attempt.
    let e = token_of(json!("abc\r\nX-Evil: 1"), json!({})).unwrap_err();
    assert_kind(&e, ErrorKind::InvalidAuthToken);
    assert!(!e.message().contains("X-Evil"));
}

#[test]
fn token_with_nul_is_invalid_auth_token() {
    check_bad_token_character('\0');
    // Not white space, so not stripped from a credential value either.
    let e = token_of(json!(null), json!({"token": "secretAB\u{0}"})).unwrap_err();
    assert_kind(&e, ErrorKind::InvalidAuthToken);
}

#[test]
fn token_with_delete_u007f_is_invalid_auth_token() {
    check_bad_token_character('\u{7F}');
    let e = token_of(json!(null), json!({"access_token": "\u{7F}secretAB"})).unwrap_err();
    assert_kind(&e, ErrorKind::InvalidAuthToken);
}

#[test]
fn token_with_non_ascii_is_invalid_auth_token() {
    for c in [
        'é', '漢', '🙂', '\u{A0}', '\u{85}', '\u{200B}', '\u{FEFF}', '\u{80}',
    ] {
        check_bad_token_character(c);
    }
}

#[test]
fn token_with_other_control_characters_is_invalid_auth_token() {
    for b in (0u8..0x20).chain([0x7F]) {
        let e = token_of(json!(format!("ab{}cd", b as char)), json!({})).unwrap_err();
        assert_kind(&e, ErrorKind::InvalidAuthToken);
    }
}

#[test]
fn token_of_every_visible_ascii_character_is_sent() {
    let all: String = ('\u{21}'..='\u{7E}').collect();
    assert_eq!(
        token_of(json!(all), json!({})).unwrap().as_deref(),
        Some(all.as_str())
    );
    let got = token_of(json!(null), json!({"token": format!(" {all} ")})).unwrap();
    assert_eq!(got.as_deref(), Some(all.as_str()));
}

#[test]
fn headers_in_order_content_type_idempotency_key_authorization() {
    let mut v = base();
    v["auth_token"] = json!("test-token");
    let r = ok(&v);
    let key = v1("jira|acme.atlassian.net|jira_project|ACME|0|0|None");
    assert_eq!(
        r.headers,
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Idempotency-Key".to_owned(), key.clone()),
            ("Authorization".to_owned(), "Bearer test-token".to_owned()),
        ]
    );
    assert_eq!(r.idempotency_key, key);
    // Without a token, the first two in the same order.
    assert_eq!(ok(&base()).headers, headers(&key, None));
}

// ---------------------------------------------------------------------------
// Section 7: refusals of the JSON form (invalid-input), limits (too-large)
// ---------------------------------------------------------------------------

fn invalid_input(text: &str, path: &str) -> PublishError {
    let e = json_refused(text);
    assert_kind(&e, ErrorKind::InvalidInput);
    assert!(
        e.message().contains(path),
        "the message does not name {path:?}: {}",
        e.message()
    );
    e
}

#[test]
fn invalid_input_malformed_json() {
    for text in [
        "",
        " ",
        "not json",
        "{",
        "}",
        "[]",
        "null",
        "\"a string\"",
        "{\"server_url\": }",
        "{'server_url': 'x'}",
        "{\"server_url\":\"https://example.com\",}",
        "\u{FEFF}{}",
    ] {
        let e = json_refused(text);
        assert_kind(&e, ErrorKind::InvalidInput);
    }
    let good = serde_json::to_string(&base()).unwrap();
    for bad in [
        format!("{good} x"),
        format!("{good}{{}}"),
        good.replacen(':', "=", 1),
        good.replacen("null", "nul", 1),
        good.replacen("null", "NULL", 1),
        good.replacen("\"ACME\"", "\"AC\u{1}ME\"", 1),
        good.replacen("\"ACME\"", "\"AC\\xME\"", 1),
        good.replacen("\"ACME\"", "\"AC\\u12\"", 1),
    ] {
        let e = json_refused(&bad);
        assert_kind(&e, ErrorKind::InvalidInput);
    }
}

#[test]
fn invalid_input_truncated_json_at_every_length() {
    let text = serde_json::to_string(&two_issues()).unwrap();
    assert!(build_snapshot_payload_json(&text, &PublishOptions::default()).is_ok());
    for (cut, _) in text.char_indices() {
        let e = json_refused(&text[..cut]);
        assert_kind(&e, ErrorKind::InvalidInput);
    }
}

#[test]
fn invalid_input_missing_top_level_field_names_it() {
    for field in [
        "server_url",
        "auth_token",
        "provider",
        "workspace",
        "doctrine_field_owners",
        "credentials",
        "project_uuid",
        "project_slug",
        "issues",
        "mappings",
        "checkpoint",
    ] {
        let mut v = base();
        v.as_object_mut().unwrap().remove(field);
        invalid_input(&serde_json::to_string(&v).unwrap(), field);
    }
}

#[test]
fn invalid_input_missing_nested_field_names_its_path() {
    let mut v = two_issues();
    v["issues"][1]["ref"].as_object_mut().unwrap().remove("id");
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].ref.id");

    let mut v = two_issues();
    v["issues"][1].as_object_mut().unwrap().remove("priority");
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].priority");

    let mut v = two_issues();
    v["mappings"][0]
        .as_object_mut()
        .unwrap()
        .remove("created_at");
    invalid_input(
        &serde_json::to_string(&v).unwrap(),
        "mappings[0].created_at",
    );

    let mut v = two_issues();
    v["checkpoint"].as_object_mut().unwrap().remove("cursor");
    invalid_input(&serde_json::to_string(&v).unwrap(), "checkpoint.cursor");
}

#[test]
fn invalid_input_missing_doctrine_mode_is_accepted() {
    let mut v = two_issues();
    v.as_object_mut().unwrap().remove("doctrine_mode");
    let r = build_snapshot_payload_json(
        &serde_json::to_string(&v).unwrap(),
        &PublishOptions::default(),
    )
    .unwrap();
    assert!(body_str(&r).contains("\"doctrine_mode\":\"external_authoritative\""));
    assert_eq!(r, ok(&two_issues()));
}

#[test]
fn invalid_input_unknown_field_names_it() {
    let mut v = base();
    v["extra_field"] = json!(null);
    invalid_input(&serde_json::to_string(&v).unwrap(), "extra_field");

    let mut v = two_issues();
    v["issues"][1]["extra"] = json!("x");
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].extra");

    let mut v = two_issues();
    v["issues"][1]["ref"]["extra"] = json!(1);
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].ref.extra");

    let mut v = two_issues();
    v["mappings"][0]["extra"] = json!(null);
    invalid_input(&serde_json::to_string(&v).unwrap(), "mappings[0].extra");

    let mut v = two_issues();
    v["checkpoint"]["extra"] = json!(null);
    invalid_input(&serde_json::to_string(&v).unwrap(), "checkpoint.extra");

    // Field names are case-sensitive snake_case.
    let text = serde_json::to_string(&base())
        .unwrap()
        .replacen("\"provider\"", "\"Provider\"", 1);
    invalid_input(&text, "Provider");
}

#[test]
fn invalid_input_repeated_key_at_top_level() {
    let good = serde_json::to_string(&base()).unwrap();
    // Same value twice is still refused; so is a different value.
    let same = good.replacen("{", "{\"provider\":\"jira\",", 1);
    invalid_input(&same, "provider");
    let other = good.replacen("{", "{\"workspace\":\"other\",", 1);
    invalid_input(&other, "workspace");
    let null_twice = good.replacen("{", "{\"checkpoint\":null,", 1);
    invalid_input(&null_twice, "checkpoint");
}

#[test]
fn invalid_input_repeated_key_inside_an_issue() {
    let good = serde_json::to_string(&two_issues()).unwrap();
    let bad = good.replacen(
        "\"title\":\"second\"",
        "\"title\":\"second\",\"title\":\"again\"",
        1,
    );
    assert_ne!(bad, good);
    invalid_input(&bad, "issues[1].title");
    let bad = good.replacen("\"id\":\"2\"", "\"id\":\"2\",\"id\":\"2\"", 1);
    invalid_input(&bad, "issues[1].ref.id");
}

#[test]
fn invalid_input_repeated_key_inside_credentials() {
    let good = serde_json::to_string(&base()).unwrap();
    let bad = good.replacen(
        "\"credentials\":{\"project_key\":\"ACME\"}",
        "\"credentials\":{\"project_key\":\"ACME\",\"project_key\":\"BETA-secret\"}",
        1,
    );
    assert_ne!(bad, good);
    let e = invalid_input(&bad, "credentials");
    assert!(e.message().contains("project_key"), "{}", e.message());
    assert!(
        !e.message().contains("BETA-secret"),
        "repeats a credential value: {}",
        e.message()
    );

    // The typed form refuses a repeated key as well.
    let mut typed = typed_input(&base());
    typed
        .credentials
        .push(("project_key".into(), "BETA-secret".into()));
    let e = build_snapshot_payload(&typed, &PublishOptions::default()).unwrap_err();
    assert_kind(&e, ErrorKind::InvalidInput);
    assert!(!e.message().contains("BETA-secret"));
}

#[test]
fn invalid_input_repeated_key_inside_doctrine_field_owners() {
    let good = serde_json::to_string(&base()).unwrap();
    let bad = good.replacen(
        "\"doctrine_field_owners\":{}",
        "\"doctrine_field_owners\":{\"status\":\"a\",\"status\":\"b\"}",
        1,
    );
    let e = invalid_input(&bad, "doctrine_field_owners");
    assert!(e.message().contains("status"), "{}", e.message());
}

#[test]
fn invalid_input_wrong_type_number_where_string() {
    invalid_input(&with_raw(&base(), "provider", "5"), "provider");
    invalid_input(&with_raw(&base(), "server_url", "1.5"), "server_url");
    invalid_input(&with_raw(&base(), "auth_token", "0"), "auth_token");
    invalid_input(&with_raw(&base(), "workspace", "null"), "workspace");
    invalid_input(&with_raw(&base(), "project_slug", "true"), "project_slug");
    invalid_input(&with_raw(&base(), "doctrine_mode", "[]"), "doctrine_mode");
    let mut v = two_issues();
    v["issues"][1]["ref"]["id"] = json!(2);
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].ref.id");
    let mut v = two_issues();
    v["issues"][1]["labels"] = json!(["a", 1]);
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].labels[1]");
    let mut v = base();
    v["credentials"]["project_key"] = json!(42);
    invalid_input(&serde_json::to_string(&v).unwrap(), "credentials");
}

#[test]
fn invalid_input_wrong_type_string_where_integer_priority() {
    let mut v = two_issues();
    v["issues"][1]["priority"] = json!("3");
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].priority");
    v["issues"][1]["priority"] = json!(true);
    invalid_input(&serde_json::to_string(&v).unwrap(), "issues[1].priority");
}

#[test]
fn invalid_input_wrong_type_fractional_priority() {
    let mut v = two_issues();
    v["issues"][1]["priority"] = json!(7);
    let good = serde_json::to_string(&v).unwrap();
    assert_eq!(good.matches("\"priority\":7").count(), 1);
    for raw in [
        "2.5", "7.0", "1e2", "-0.5", "1E+2", "7.", "07", "+7", "0x7", "NaN", "Infinity",
    ] {
        let bad = good.replacen("\"priority\":7", &format!("\"priority\":{raw}"), 1);
        invalid_input(&bad, "issues[1]");
    }
    for raw in ["2.5", "7.0", "1e2", "1E+2"] {
        let bad = good.replacen("\"priority\":7", &format!("\"priority\":{raw}"), 1);
        invalid_input(&bad, "issues[1].priority");
    }
    // Out of the i64 range.
    let bad = good.replacen("\"priority\":7", "\"priority\":9223372036854775808", 1);
    invalid_input(&bad, "issues[1].priority");
}

#[test]
fn invalid_input_wrong_type_structures() {
    invalid_input(&with_raw(&base(), "issues", "{}"), "issues");
    invalid_input(&with_raw(&base(), "mappings", "null"), "mappings");
    invalid_input(&with_raw(&base(), "checkpoint", "[]"), "checkpoint");
    invalid_input(&with_raw(&base(), "checkpoint", "\"c\""), "checkpoint");
    invalid_input(&with_raw(&base(), "credentials", "null"), "credentials");
    invalid_input(
        &with_raw(&base(), "doctrine_field_owners", "[]"),
        "doctrine_field_owners",
    );
    invalid_input(&with_raw(&base(), "issues", "[null]"), "issues[0]");
}

#[test]
fn invalid_input_lone_surrogate_names_the_field_path() {
    let good = serde_json::to_string(&two_issues()).unwrap();
    for lone in [
        r"\ud800",
        r"\udfff",
        r"\udc00",
        r"\ud83d",
        r"\ud800\u0041",
        r"x\ud800y",
        r"\ud800\ud800",
    ] {
        let bad = good.replacen("\"id\":\"2\"", &format!("\"id\":\"{lone}\""), 1);
        assert_ne!(bad, good);
        invalid_input(&bad, "issues[1].ref.id");
    }
    invalid_input(
        &with_raw(&base(), "provider", r#""jira\ud800""#),
        "provider",
    );
    let bad = good.replacen("\"project_key\":\"ACME\"", "\"project_key\":\"\\udead\"", 1);
    invalid_input(&bad, "credentials");
    // A proper pair is a character.
    let pair = good.replacen("\"id\":\"2\"", r#""id":"\ud83d\ude42""#, 1);
    let r = build_snapshot_payload_json(&pair, &PublishOptions::default()).unwrap();
    assert!(body_str(&r).contains("\"id\":\"🙂\""));
}

#[test]
fn invalid_input_message_repeats_no_credential_value() {
    let good = serde_json::to_string(&base()).unwrap();
    // A raw control character inside a credential value.
    let bad = good.replacen(
        "\"credentials\":{\"project_key\":\"ACME\"}",
        "\"credentials\":{\"token\":\"hunter2secret\u{1}tail\"}",
        1,
    );
    let e = json_refused(&bad);
    assert_kind(&e, ErrorKind::InvalidInput);
    assert!(!e.message().contains("hunter2secret"), "{}", e.message());
}

#[test]
fn too_large_string_over_max_string_bytes_json_form() {
    let mut v = two_issues();
    v["issues"][1]["title"] = json!("x".repeat(MAX_STRING_BYTES + 1));
    let e = json_refused(&serde_json::to_string(&v).unwrap());
    assert_kind(&e, ErrorKind::TooLarge);
    assert!(e.message().contains("issues[1].title"), "{}", e.message());
}

#[test]
fn too_large_string_over_max_string_bytes_typed_form() {
    let mut v = two_issues();
    v["issues"][1]["title"] = json!("x".repeat(MAX_STRING_BYTES + 1));
    let e = build_snapshot_payload(&typed_input(&v), &PublishOptions::default()).unwrap_err();
    assert_kind(&e, ErrorKind::TooLarge);
    assert!(e.message().contains("issues[1].title"), "{}", e.message());
}

#[test]
fn too_large_counts_utf8_bytes_and_a_string_at_the_limit_is_accepted() {
    // Exactly MAX_STRING_BYTES bytes (as multi-byte characters): accepted.
    let at_limit = "é".repeat(MAX_STRING_BYTES / 2);
    assert_eq!(at_limit.len(), MAX_STRING_BYTES);
    let mut v = base();
    v["project_slug"] = json!(at_limit);
    let r = ok(&v);
    assert_eq!(
        r.body.len(),
        BASE_BODY.len() - "null".len() + MAX_STRING_BYTES + 2
    );
    // One byte more: refused by both entry points, fewer characters than bytes.
    let mut v = base();
    v["project_slug"] = json!(format!("{at_limit}x"));
    assert_kind(&refused(&v), ErrorKind::TooLarge);
    // A token and a credential value count too.
    let mut v = base();
    v["credentials"]["token"] = json!("t".repeat(MAX_STRING_BYTES + 1));
    let e = refused(&v);
    assert_kind(&e, ErrorKind::TooLarge);
}

#[test]
fn too_large_map_key_over_max_string_bytes_json_form() {
    // Keys of credentials and doctrine_field_owners are strings of the input:
    // the typed entry point refuses them as too-large, so must the JSON form.
    for field in ["credentials", "doctrine_field_owners"] {
        let mut v = base();
        v[field] = json!({ "k".repeat(MAX_STRING_BYTES + 1): "v" });
        let typed =
            build_snapshot_payload(&typed_input(&v), &PublishOptions::default()).unwrap_err();
        assert_kind(&typed, ErrorKind::TooLarge);
        let e = json_refused(&serde_json::to_string(&v).unwrap());
        assert_kind(&e, ErrorKind::TooLarge);
    }
}

// ---------------------------------------------------------------------------
// Typed and JSON entry points; refusal kinds; messages
// ---------------------------------------------------------------------------

#[test]
fn typed_and_json_entry_points_give_identical_bytes() {
    let mut rich = two_issues();
    rich["auth_token"] = json!("tok-abc");
    rich["provider"] = json!(" ΟΔΟΣ\u{1C}");
    rich["doctrine_field_owners"] = json!({"a\u{0}": "b\"\\/", " ": "x"});
    rich["project_slug"] = json!("é漢🙂\u{7F}\u{2028}");
    for v in [base(), two_issues(), rich] {
        let text = serde_json::to_string(&v).unwrap();
        for options in [
            PublishOptions::default(),
            PublishOptions {
                idempotency: IdempotencyScheme::Content,
            },
        ] {
            let a = build_snapshot_payload_json(&text, &options).unwrap();
            let b = build_snapshot_payload(&typed_input(&v), &options).unwrap();
            assert_eq!(a.body, b.body);
            assert_eq!(a.headers, b.headers);
            assert_eq!(a.endpoint, b.endpoint);
            assert_eq!(a.idempotency_key, b.idempotency_key);
        }
    }
}

#[test]
fn json_form_whitespace_between_tokens_is_allowed() {
    let compact = serde_json::to_string(&two_issues()).unwrap();
    let pretty = serde_json::to_string_pretty(&two_issues()).unwrap();
    let a = build_snapshot_payload_json(&compact, &PublishOptions::default()).unwrap();
    let b = build_snapshot_payload_json(
        &format!(" \t\r\n{pretty}\n\r\t "),
        &PublishOptions::default(),
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn error_kinds_have_the_contract_wire_names() {
    let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "not-configured",
            "invalid-server-url",
            "invalid-auth-token",
            "invalid-input",
            "too-large",
            "invalid-store-row",
        ]
    );
    // The file-reading host's kinds are not the core's (the wasmtime host's `ErrorKind`).
    for name in [
        "invalid-config",
        "invalid-credentials",
        "store-missing",
        "invalid-store",
    ] {
        assert_eq!(ErrorKind::from_name(name), None, "{name}");
    }
    for k in ErrorKind::ALL {
        assert_eq!(ErrorKind::from_name(k.as_str()), Some(k));
        assert_eq!(k.to_string(), k.as_str());
    }
}

#[test]
fn refusal_messages_name_the_field_and_repeat_no_secret() {
    let secret = "hunter2secret";
    let mut cases = Vec::new();
    let mut v = base();
    v["credentials"] = json!({"token": format!("{secret} x"), "project_key": secret});
    cases.push((v, ErrorKind::InvalidAuthToken, "token"));
    let mut v = base();
    v["server_url"] = json!(format!("https://user:{secret}@example.com"));
    v["auth_token"] = json!(secret);
    cases.push((v, ErrorKind::InvalidServerUrl, "server_url"));
    let mut v = base();
    v["provider"] = json!(" ");
    v["credentials"] = json!({"token": secret});
    cases.push((v, ErrorKind::NotConfigured, "provider"));
    for (v, kind, field) in cases {
        let e = refused(&v);
        assert_kind(&e, kind);
        assert!(e.message().contains(field), "{kind}: {}", e.message());
        assert!(!e.message().contains(secret), "{kind}: {}", e.message());
        assert!(!e.to_string().contains(secret), "{kind}: {e}");
    }
}

#[test]
fn json_form_nested_past_the_limit_is_too_large_naming_it() {
    // 600 arrays where a string is expected: a hostile input, refused by the
    // named limit before any of it is read.
    let deep = format!("{}\"x\"{}", "[".repeat(600), "]".repeat(600));
    let text = base().to_string().replacen("\"jira\"", &deep, 1);
    let e = json_refused(&text);
    assert_eq!(e.kind(), ErrorKind::TooLarge, "{}", e.message());
    assert!(e.message().contains("MAX_NESTING_DEPTH"), "{}", e.message());
    // Shallow nesting in the wrong place is just the wrong type.
    let text = base().to_string().replacen("\"jira\"", "[[\"jira\"]]", 1);
    let e = json_refused(&text);
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e.message());
    assert!(
        e.message()
            .starts_with("provider: expected a string, found an array"),
        "{}",
        e.message()
    );
}
