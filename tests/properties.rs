//! Property tests of the contract's invariants (issue 8, item 3), over inputs
//! generated with adversarial strings: Python white space (U+001C-U+001F,
//! U+0085, U+3000, ...), control characters, quotes, backslashes, non-ASCII
//! (İ, Σ), random providers, credentials present or not, tokens with bad
//! characters.
//!
//! Every expectation is computed by an independent model in this file (its own
//! strip, `str::to_lowercase`, routing table, token rules, v1 string), never by
//! calling the crate's helpers.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tracker_publish::{
    Checkpoint, ErrorKind, IdempotencyScheme, IssueRef, IssueSnapshot, MappingRow, Pairs,
    PublishError, PublishOptions, PublishRequest, SnapshotInput, Text, build_snapshot_payload,
    build_snapshot_payload_json,
};

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/// The 29 code points Python's `str.isspace()` accepts (contract section 2).
const PY_WS: [char; 29] = [
    '\u{09}', '\u{0A}', '\u{0B}', '\u{0C}', '\u{0D}', '\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}',
    '\u{20}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}',
    '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];

const TOP_KEYS: [&str; 11] = [
    "provider",
    "workspace",
    "external_resource_type",
    "external_resource_id",
    "doctrine_mode",
    "doctrine_field_owners",
    "project_uuid",
    "project_slug",
    "issues",
    "mappings",
    "checkpoint",
];

/// Characters of credential values and tokens: none of them in a row of six
/// can occur in a fixed message text.
const SECRET_CHARS: [char; 8] = ['Q', 'Z', 'X', 'J', 'q', 'z', '~', '^'];

fn strip(s: &str) -> &str {
    s.trim_matches(|c| PY_WS.contains(&c))
}

fn lookup<'a>(pairs: &'a Pairs<'_>, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_ref())
}

/// What the request must carry, or the refusal it must be.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    provider: String,
    workspace: String,
    routing: Option<(&'static str, String)>,
    doctrine_mode: String,
    token: Option<String>,
    n_issues: usize,
    n_mappings: usize,
    cursor: Option<String>,
}

impl Model {
    /// The string the v1 key hashes.
    fn v1_text(&self) -> String {
        let none = |o: Option<&str>| o.unwrap_or("None").to_owned();
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.provider,
            self.workspace,
            none(self.routing.as_ref().map(|r| r.0)),
            none(self.routing.as_ref().map(|r| r.1.as_str())),
            self.n_issues,
            self.n_mappings,
            none(self.cursor.as_deref()),
        )
    }
}

fn valid_server_url(url: &str) -> bool {
    SERVERS
        .iter()
        .find(|(u, _)| *u == url)
        .expect("a known URL")
        .1
}

fn model(input: &SnapshotInput<'_>) -> Result<Model, ErrorKind> {
    let provider = match strip(&input.provider).to_lowercase().as_str() {
        "azure" | "azure-devops" => "azure_devops".to_owned(),
        p => p.to_owned(),
    };
    // Unicode 14.0's assignments are the one table the model borrows (tests/
    // unicode.rs checks it against Python 3.11); std's later lower-casing
    // agrees with 14.0's on every code point 14.0 assigns.
    if tracker_publish::normalize::first_unassigned(&provider).is_some() {
        return Err(ErrorKind::InvalidInput);
    }
    let workspace = strip(&input.workspace).to_owned();
    if provider.is_empty() || workspace.is_empty() {
        return Err(ErrorKind::NotConfigured);
    }
    if !valid_server_url(&input.server_url) {
        return Err(ErrorKind::InvalidServerUrl);
    }
    let token = match input.auth_token.as_deref() {
        Some(t) if !t.is_empty() => t,
        _ => match lookup(&input.credentials, "access_token") {
            Some(t) if !t.is_empty() => strip(t),
            _ => strip(lookup(&input.credentials, "token").unwrap_or("")),
        },
    };
    if !token.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
        return Err(ErrorKind::InvalidAuthToken);
    }
    let routing = match provider.as_str() {
        "jira" => Some(("jira_project", "project_key")),
        "linear" => Some(("linear_team", "team_id")),
        _ => None,
    }
    .and_then(|(ty, key)| {
        let id = strip(lookup(&input.credentials, key)?);
        (!id.is_empty()).then(|| (ty, id.to_owned()))
    });
    let doctrine_mode = match input.doctrine_mode.as_deref().map(strip) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => "external_authoritative".to_owned(),
    };
    Ok(Model {
        provider,
        workspace,
        routing,
        doctrine_mode,
        token: (!token.is_empty()).then(|| token.to_owned()),
        n_issues: input.issues.len(),
        n_mappings: input.mappings.len(),
        cursor: input
            .checkpoint
            .as_ref()
            .and_then(|c| c.cursor.as_deref().map(str::to_owned)),
    })
}

fn s(t: &str) -> Value {
    Value::String(t.to_owned())
}

fn os(t: Option<&Text<'_>>) -> Value {
    t.map_or(Value::Null, |t| s(t))
}

fn list(items: &[Text<'_>]) -> Value {
    Value::Array(items.iter().map(|t| s(t)).collect())
}

fn pairs_json(pairs: &Pairs<'_>, keep: impl Fn(&str, &str) -> bool) -> Value {
    Value::Object(
        pairs
            .iter()
            .filter(|(k, v)| keep(k, v))
            .map(|(k, v)| (k.to_string(), s(v)))
            .collect::<Map<_, _>>(),
    )
}

fn issue_json(i: &IssueSnapshot<'_>) -> Value {
    json!({
        "ref": {
            "system": s(&i.r#ref.system),
            "workspace": s(&i.r#ref.workspace),
            "id": s(&i.r#ref.id),
            "key": os(i.r#ref.key.as_ref()),
            "url": os(i.r#ref.url.as_ref()),
        },
        "title": s(&i.title),
        "body": os(i.body.as_ref()),
        "status": s(&i.status),
        "issue_type": s(&i.issue_type),
        "priority": i.priority,
        "assignees": list(&i.assignees),
        "labels": list(&i.labels),
        "updated_at": os(i.updated_at.as_ref()),
    })
}

fn mapping_json(m: &MappingRow<'_>) -> Value {
    json!({
        "wp_id": s(&m.wp_id),
        "system": s(&m.system),
        "workspace": s(&m.workspace),
        "external_id": s(&m.external_id),
        "external_key": os(m.external_key.as_ref()),
        "external_url": os(m.external_url.as_ref()),
        "created_at": s(&m.created_at),
        "updated_at": s(&m.updated_at),
    })
}

/// The JSON form of an input, for `build_snapshot_payload_json`.
fn input_json(input: &SnapshotInput<'_>) -> String {
    let v = json!({
        "server_url": s(&input.server_url),
        "auth_token": os(input.auth_token.as_ref()),
        "provider": s(&input.provider),
        "workspace": s(&input.workspace),
        "doctrine_mode": os(input.doctrine_mode.as_ref()),
        "doctrine_field_owners": pairs_json(&input.doctrine_field_owners, |_, _| true),
        "credentials": pairs_json(&input.credentials, |_, _| true),
        "project_uuid": os(input.project_uuid.as_ref()),
        "project_slug": os(input.project_slug.as_ref()),
        "issues": input.issues.iter().map(issue_json).collect::<Vec<_>>(),
        "mappings": input.mappings.iter().map(mapping_json).collect::<Vec<_>>(),
        "checkpoint": input.checkpoint.as_ref().map(|c| json!({
            "cursor": os(c.cursor.as_ref()),
            "updated_since": os(c.updated_since.as_ref()),
        })),
    });
    serde_json::to_string(&v).unwrap()
}

/// The body the model expects, as a JSON value in contract key order.
fn expected_body(m: &Model, input: &SnapshotInput<'_>) -> Value {
    let blank = |t: &str| strip(t).is_empty();
    json!({
        "provider": m.provider,
        "workspace": m.workspace,
        "external_resource_type": m.routing.as_ref().map(|r| r.0),
        "external_resource_id": m.routing.as_ref().map(|r| r.1.clone()),
        "doctrine_mode": m.doctrine_mode,
        "doctrine_field_owners":
            pairs_json(&input.doctrine_field_owners, |k, v| !blank(k) && !blank(v)),
        "project_uuid": os(input.project_uuid.as_ref()),
        "project_slug": os(input.project_slug.as_ref()),
        "issues": input.issues.iter().map(issue_json).collect::<Vec<_>>(),
        "mappings": input.mappings.iter().map(mapping_json).collect::<Vec<_>>(),
        "checkpoint": {
            "cursor": os(input.checkpoint.as_ref().and_then(|c| c.cursor.as_ref())),
            "updated_since": os(input.checkpoint.as_ref().and_then(|c| c.updated_since.as_ref())),
        },
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The token and every credential value of an input, and the server URL's
/// password (at least 6 bytes, so that no fixed message word matches).
fn secrets(input: &SnapshotInput<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let values = input
        .auth_token
        .iter()
        .chain(input.credentials.iter().map(|(_, v)| v));
    for v in values {
        out.push(v.to_string());
        out.push(strip(v).to_owned());
        out.push(v.trim().to_owned());
    }
    if let Some((_, pw)) = input.server_url.split_once(":QZ") {
        out.push(format!("QZ{}", pw.split('@').next().unwrap_or("")));
    }
    out.retain(|s| s.len() >= 6);
    out
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Server URLs and whether each is valid.
const SERVERS: [(&str, bool); 12] = [
    ("https://example.com", true),
    ("http://example.com/", true),
    ("HTTPS://Example.COM:8443///", true),
    ("https://[::1]:80", true),
    ("https://example.com/base/", true),
    ("ftp://example.com", false),
    ("https://", false),
    ("example.com", false),
    ("https://user:QZXJ~^QZXJ@example.com", false),
    ("https://:QZqz~^Jzq@example.com/", false),
    ("https://exa mple.com", false),
    ("https://example.com:99999", false),
];

fn adv_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range(' ', '~'),
        2 => select(PY_WS.to_vec()),
        1 => prop::char::range('\0', '\u{1f}'),
        2 => select(vec![
            '"', '\\', '/', '\u{7f}', '\u{80}', '\u{9f}', '\u{ad}', 'İ', 'Σ', 'ς', 'é', 'ß',
            '漢', '🙂', '\u{200b}', '\u{feff}', '\u{fffd}', '\u{e000}', '\u{10ffff}',
        ]),
        1 => any::<char>(),
    ]
}

fn adv_string() -> impl Strategy<Value = String> {
    prop::collection::vec(adv_char(), 0..10).prop_map(|v| v.into_iter().collect())
}

fn ws_pad() -> impl Strategy<Value = String> {
    prop::collection::vec(select(PY_WS.to_vec()), 0..3).prop_map(|v| v.into_iter().collect())
}

fn padded(core: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (ws_pad(), core, ws_pad()).prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

fn provider() -> impl Strategy<Value = String> {
    let known = select(vec![
        "jira",
        "JIRA",
        "Jira",
        "linear",
        "LINEAR",
        "Linear",
        "azure",
        "AZURE",
        "azure-devops",
        "Azure-DevOps",
        "azure_devops",
        "AZURE_DEVOPS",
        "github",
        "GitLab",
        "JİRA",
        "İ",
        "ΑΣ",
        "ΣΑΣ.Σ",
        "azure devops",
    ])
    .prop_map(str::to_owned);
    let routed = select(vec!["jira", "Jira", "linear", "LINEAR"]).prop_map(str::to_owned);
    prop_oneof![
        6 => padded(routed),
        6 => padded(known),
        2 => adv_string(),
        1 => ws_pad(),
    ]
}

/// A credential value or token: 6 to 11 characters of [`SECRET_CHARS`],
/// maybe with one bad character inside, maybe padded with white space.
fn secret() -> impl Strategy<Value = String> {
    let bad = select(vec![
        ' ', '\t', '\r', '\n', '\0', '\u{1c}', '\u{7f}', '\u{85}', '\u{a0}', '\u{3000}', 'é', 'İ',
        'Σ', '"', '\\',
    ]);
    let core = (
        prop::collection::vec(select(SECRET_CHARS.to_vec()), 6..12),
        prop::option::weighted(0.15, (any::<prop::sample::Index>(), bad)),
    )
        .prop_map(|(mut v, bad)| {
            if let Some((at, c)) = bad {
                let at = at.index(v.len() + 1);
                v.insert(at, c);
            }
            v.into_iter().collect::<String>()
        });
    prop_oneof![3 => core.clone(), 1 => padded(core)]
}

fn credential_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(String::new())),
        1 => ws_pad().prop_map(Some),
        4 => secret().prop_map(Some),
    ]
}

/// Credentials: the four keys the contract reads, each present or not, plus
/// a few others, unique keys, shuffled.
fn credentials() -> impl Strategy<Value = Pairs<'static>> {
    let other_key = prop::collection::vec(
        prop_oneof![
            prop::char::range('a', 'k'),
            Just('_'),
            Just('é'),
            Just('\u{3000}')
        ],
        1..6,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    (
        credential_value(),
        credential_value(),
        credential_value(),
        credential_value(),
        prop::collection::vec((other_key, secret()), 0..3),
    )
        .prop_map(|(pk, team, access, token, others)| {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for (k, v) in [
                ("project_key", pk),
                ("team_id", team),
                ("access_token", access),
                ("token", token),
            ] {
                if let Some(v) = v {
                    pairs.push((k.to_owned(), v));
                }
            }
            for (k, v) in others {
                if !pairs.iter().any(|(p, _)| *p == k) {
                    pairs.push((k, v));
                }
            }
            pairs
        })
        .prop_shuffle()
        .prop_map(|v| v.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
}

fn field_owners() -> impl Strategy<Value = Pairs<'static>> {
    let part = || prop_oneof![3 => adv_string(), 1 => ws_pad()];
    prop::collection::vec((part(), part()), 0..4).prop_map(|v| {
        let mut out: Pairs<'static> = Vec::new();
        for (k, val) in v {
            if !out.iter().any(|(p, _)| *p == k) {
                out.push((k.into(), val.into()));
            }
        }
        out
    })
}

fn text() -> impl Strategy<Value = Text<'static>> {
    adv_string().prop_map(Text::from)
}

fn opt_text() -> impl Strategy<Value = Option<Text<'static>>> {
    prop::option::of(text())
}

fn texts() -> impl Strategy<Value = Vec<Text<'static>>> {
    prop::collection::vec(text(), 0..3)
}

fn issue() -> impl Strategy<Value = IssueSnapshot<'static>> {
    (
        (text(), text(), text(), opt_text(), opt_text()),
        (text(), opt_text(), text(), text()),
        (prop::option::of(any::<i64>()), texts(), texts(), opt_text()),
    )
        .prop_map(
            |(
                (system, workspace, id, key, url),
                (title, body, status, issue_type),
                (priority, assignees, labels, updated_at),
            )| IssueSnapshot {
                r#ref: IssueRef {
                    system,
                    workspace,
                    id,
                    key,
                    url,
                },
                title,
                body,
                status,
                issue_type,
                priority,
                assignees,
                labels,
                updated_at,
            },
        )
}

fn mapping() -> impl Strategy<Value = MappingRow<'static>> {
    (
        (text(), text(), text(), text()),
        (opt_text(), opt_text(), text(), text()),
    )
        .prop_map(
            |(
                (wp_id, system, workspace, external_id),
                (external_key, external_url, created_at, updated_at),
            )| MappingRow {
                wp_id,
                system,
                workspace,
                external_id,
                external_key,
                external_url,
                created_at,
                updated_at,
            },
        )
}

fn snapshot_input() -> impl Strategy<Value = SnapshotInput<'static>> {
    let workspace = prop_oneof![
        6 => padded(Just("acme.atlassian.net".to_owned())),
        3 => adv_string(),
        1 => ws_pad(),
    ];
    let doctrine_mode = prop_oneof![
        1 => Just(None),
        1 => ws_pad().prop_map(Some),
        1 => padded(Just("owner_authoritative".to_owned())).prop_map(Some),
        1 => adv_string().prop_map(Some),
    ];
    let auth_token = prop_oneof![
        3 => Just(None),
        1 => Just(Some(String::new())),
        1 => ws_pad().prop_map(Some),
        3 => secret().prop_map(Some),
    ];
    let server = prop_oneof![
        6 => select(SERVERS[..5].to_vec()),
        1 => select(SERVERS.to_vec()),
    ]
    .prop_map(|(u, _)| u);
    (
        (server, auth_token, provider(), workspace, doctrine_mode),
        (field_owners(), credentials(), opt_text(), opt_text()),
        (
            prop::collection::vec(issue(), 0..4),
            prop::collection::vec(mapping(), 0..3),
            prop::option::of((opt_text(), opt_text())),
        ),
    )
        .prop_map(
            |(
                (server, auth_token, provider, workspace, doctrine_mode),
                (doctrine_field_owners, credentials, project_uuid, project_slug),
                (issues, mappings, checkpoint),
            )| SnapshotInput {
                server_url: server.into(),
                auth_token: auth_token.map(Text::from),
                provider: provider.into(),
                workspace: workspace.into(),
                doctrine_mode: doctrine_mode.map(Text::from),
                doctrine_field_owners,
                credentials,
                project_uuid,
                project_slug,
                issues,
                mappings,
                checkpoint: checkpoint.map(|(cursor, updated_since)| Checkpoint {
                    cursor,
                    updated_since,
                }),
            },
        )
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// 256 cases per property; `PROPTEST_CASES` sets another count.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn v1() -> PublishOptions {
    PublishOptions::default()
}

fn content() -> PublishOptions {
    PublishOptions {
        idempotency: IdempotencyScheme::Content,
    }
}

/// Both entry points, twice each; they must agree with each other and with
/// themselves, byte for byte and message for message.
fn run(
    input: &SnapshotInput<'_>,
    options: &PublishOptions,
) -> Result<Result<PublishRequest, PublishError>, TestCaseError> {
    let text = input_json(input);
    let typed = build_snapshot_payload(input, options);
    let from_json = build_snapshot_payload_json(&text, options);
    prop_assert_eq!(
        &typed,
        &build_snapshot_payload(input, options),
        "typed twice"
    );
    prop_assert_eq!(
        &from_json,
        &build_snapshot_payload_json(&text, options),
        "json twice"
    );
    prop_assert_eq!(&typed, &from_json, "typed and JSON entry points disagree");
    Ok(typed)
}

/// No `\u` escape but for U+0000-U+001F (lower-case hex), and no raw control
/// character, in a JSON text.
fn check_escapes(body: &[u8]) -> Result<(), TestCaseError> {
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        prop_assert!(b >= 0x20, "raw control byte {:#04x} at {}", b, i);
        if b == b'\\' {
            let next = body[i + 1];
            if next == b'u' {
                let hex = std::str::from_utf8(&body[i + 2..i + 6]).unwrap();
                prop_assert!(
                    hex.starts_with("00")
                        && hex.bytes().all(|h| matches!(h, b'0'..=b'9' | b'a'..=b'f'))
                        && u32::from_str_radix(hex, 16).unwrap() < 0x20,
                    "escape \\u{} at {}",
                    hex,
                    i
                );
                i += 6;
            } else {
                prop_assert!(
                    matches!(next, b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't'),
                    "unexpected escape \\{}",
                    next as char
                );
                i += 2;
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_headers(r: &PublishRequest, m: &Model) -> Result<(), TestCaseError> {
    for (n, v) in &r.headers {
        for text in [n, v] {
            prop_assert!(
                text.chars().all(|c| (' '..='~').contains(&c)),
                "header text {:?} has a character outside visible ASCII and space",
                text
            );
        }
    }
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    let auth: Vec<&str> = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .collect();
    match &m.token {
        Some(t) => {
            prop_assert_eq!(names, ["Content-Type", "Idempotency-Key", "Authorization"]);
            prop_assert_eq!(auth.len(), 1);
            let value = auth[0].strip_prefix("Bearer ").expect("Bearer");
            prop_assert!(!value.is_empty());
            prop_assert!(value.chars().all(|c| ('!'..='~').contains(&c)));
            prop_assert_eq!(value, t.as_str());
        }
        None => {
            prop_assert_eq!(names, ["Content-Type", "Idempotency-Key"]);
        }
    }
    prop_assert_eq!(&r.headers[0].1, "application/json");
    prop_assert_eq!(&r.headers[1].1, &r.idempotency_key);
    Ok(())
}

fn check_error(input: &SnapshotInput<'_>, e: &PublishError) -> Result<(), TestCaseError> {
    prop_assert!(!e.message().is_empty());
    let shown = e.to_string();
    for secret in secrets(input) {
        prop_assert!(
            !shown.contains(&secret),
            "refusal repeats a secret {:?}: {}",
            secret,
            shown
        );
    }
    Ok(())
}

/// Every invariant of one input.
fn check_all(input: &SnapshotInput<'_>) -> Result<(), TestCaseError> {
    let expected = model(input);
    let got = run(input, &v1())?;
    let (m, r) = match (expected, got) {
        (Err(kind), Err(e)) => {
            prop_assert_eq!(kind, e.kind(), "refusal: {}", e);
            return check_error(input, &e);
        }
        (Ok(m), Ok(r)) => (m, r),
        (Err(kind), Ok(_)) => return Err(TestCaseError::fail(format!("expected {kind}"))),
        (Ok(_), Err(e)) => {
            return Err(TestCaseError::fail(format!("expected a request, got {e}")));
        }
    };

    // The body: JSON, the normalised input, keys in contract order, exactly
    // as a compact encoder writes it.
    let want = expected_body(&m, input);
    let body: Value = serde_json::from_slice(&r.body).expect("the body is JSON");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    prop_assert_eq!(keys, TOP_KEYS);
    prop_assert_eq!(&body, &want);
    let owners: Vec<&String> = body["doctrine_field_owners"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let want_owners: Vec<&String> = want["doctrine_field_owners"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    prop_assert_eq!(owners, want_owners, "field owner order");
    prop_assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        serde_json::to_string(&want).unwrap()
    );
    check_escapes(&r.body)?;

    // Routing fields null together or set together.
    prop_assert_eq!(
        body["external_resource_type"].is_null(),
        body["external_resource_id"].is_null()
    );

    // Endpoint.
    prop_assert_eq!(
        &r.endpoint,
        &format!(
            "{}/api/v1/connectors/trackers/snapshots/",
            input.server_url.trim_end_matches('/')
        )
    );

    // Keys: v1 as documented; content = sha256(body), same body.
    prop_assert_eq!(&r.idempotency_key, &sha256_hex(m.v1_text().as_bytes()));
    let c = run(input, &content())?.expect("the content scheme builds too");
    prop_assert_eq!(&c.body, &r.body);
    prop_assert_eq!(&c.idempotency_key, &sha256_hex(&r.body));
    check_headers(&r, &m)?;
    check_headers(&c, &m)?;
    Ok(())
}

/// One change to an input.
#[derive(Clone, Debug)]
enum Change {
    Provider(String),
    Workspace(String),
    RoutingId(String),
    AddIssue(IssueSnapshot<'static>),
    DropIssue,
    AddMapping(MappingRow<'static>),
    DropMapping,
    Cursor(Option<String>),
    /// Issue content only: the v1 key must not move.
    Title(String),
    Labels(Vec<Text<'static>>),
    Priority(Option<i64>),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        provider().prop_map(Change::Provider),
        padded(adv_string()).prop_map(Change::Workspace),
        secret().prop_map(Change::RoutingId),
        issue().prop_map(Change::AddIssue),
        Just(Change::DropIssue),
        mapping().prop_map(Change::AddMapping),
        Just(Change::DropMapping),
        prop::option::of(adv_string()).prop_map(Change::Cursor),
        adv_string().prop_map(Change::Title),
        texts().prop_map(Change::Labels),
        prop::option::of(any::<i64>()).prop_map(Change::Priority),
    ]
}

fn apply(input: &mut SnapshotInput<'static>, change: &Change) {
    match change.clone() {
        Change::Provider(p) => input.provider = p.into(),
        Change::Workspace(w) => input.workspace = w.into(),
        Change::RoutingId(id) => {
            for key in ["project_key", "team_id"] {
                input.credentials.retain(|(k, _)| k != key);
                input.credentials.push((key.into(), id.clone().into()));
            }
        }
        Change::AddIssue(i) => input.issues.push(i),
        Change::DropIssue => {
            input.issues.pop();
        }
        Change::AddMapping(m) => input.mappings.push(m),
        Change::DropMapping => {
            input.mappings.pop();
        }
        Change::Cursor(c) => match &mut input.checkpoint {
            Some(cp) => cp.cursor = c.map(Text::from),
            None => {
                input.checkpoint = Some(Checkpoint {
                    cursor: c.map(Text::from),
                    updated_since: None,
                })
            }
        },
        Change::Title(t) => {
            if let Some(i) = input.issues.first_mut() {
                i.title = t.into();
            }
        }
        Change::Labels(l) => {
            if let Some(i) = input.issues.last_mut() {
                i.labels = l;
            }
        }
        Change::Priority(p) => {
            if let Some(i) = input.issues.first_mut() {
                i.priority = p;
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Body, routing, headers, keys, refusals, determinism and the agreement
    /// of both entry points, for every generated input.
    #[test]
    fn every_invariant_holds(input in snapshot_input()) {
        check_all(&input)?;
    }

    /// The v1 key moves exactly when one of the fields it hashes moves
    /// (provider, workspace, routing type or id, issue count, mapping count,
    /// cursor), and not when only issue content changes; the content key
    /// moves whenever the body does.
    #[test]
    fn v1_key_follows_its_fields_only(input in snapshot_input(), change in change()) {
        let mut changed = input.clone();
        apply(&mut changed, &change);
        let (Ok(a), Ok(b)) = (model(&input), model(&changed)) else {
            return Ok(());
        };
        let ra = run(&input, &v1())?.expect("a request");
        let rb = run(&changed, &v1())?.expect("a request");
        let fields = |m: &Model| {
            (m.provider.clone(), m.workspace.clone(), m.routing.clone(), m.n_issues, m.n_mappings, m.cursor.clone())
        };
        prop_assert_eq!(
            fields(&a) == fields(&b),
            ra.idempotency_key == rb.idempotency_key,
            "v1 key and its fields disagree after {:?}", change
        );
        if matches!(change, Change::Title(_) | Change::Labels(_) | Change::Priority(_)) {
            prop_assert_eq!(&ra.idempotency_key, &rb.idempotency_key, "issue content moved the v1 key");
        }
        let ca = run(&input, &content())?.expect("a request");
        let cb = run(&changed, &content())?.expect("a request");
        prop_assert_eq!(ra.body == rb.body, ca.idempotency_key == cb.idempotency_key);
    }

    /// Targeted: a Jira/Linear input whose only difference is the routing id
    /// or type always gets another v1 key.
    #[test]
    fn rebinding_changes_the_v1_key(
        a in secret(), b in secret(), linear in any::<bool>(), switch in any::<bool>()
    ) {
        let (pa, pb) = match (linear, switch) {
            (false, false) => ("jira", "jira"),
            (true, false) => ("linear", "linear"),
            (false, true) => ("jira", "linear"),
            (true, true) => ("linear", "jira"),
        };
        let make = |p: &str, id: &str| SnapshotInput {
            server_url: "https://example.com".into(),
            provider: p.to_owned().into(),
            workspace: "acme".into(),
            credentials: vec![
                ("project_key".into(), id.to_owned().into()),
                ("team_id".into(), id.to_owned().into()),
            ],
            ..SnapshotInput::default()
        };
        let (x, y) = (make(pa, &a), make(pb, &b));
        let (Ok(mx), Ok(my)) = (model(&x), model(&y)) else { return Ok(()); };
        let rx = run(&x, &v1())?.expect("a request");
        let ry = run(&y, &v1())?.expect("a request");
        prop_assert_eq!(mx.routing == my.routing, rx.idempotency_key == ry.idempotency_key);
    }

    /// The receiving side accepts whatever a client writes: every built body
    /// verifies under its key, with that scheme, the model's routing key and
    /// counts; the same body under a changed key is refused.
    #[test]
    fn the_receiver_accepts_what_a_client_writes(input in snapshot_input()) {
        let Ok(m) = model(&input) else { return Ok(()); };
        for (options, scheme) in [(v1(), IdempotencyScheme::V1), (content(), IdempotencyScheme::Content)] {
            let r = run(&input, &options)?.expect("a request");
            let receipt = tracker_publish::verify_snapshot(&r.body, &r.idempotency_key)
                .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
            prop_assert_eq!(receipt.scheme, scheme);
            let mut key = vec![m.provider.clone(), m.workspace.clone()];
            if let Some((t, id)) = &m.routing {
                key.push((*t).to_owned());
                key.push(id.clone());
            }
            prop_assert_eq!(&receipt.routing_key, &key);
            prop_assert_eq!((receipt.issues, receipt.mappings), (m.n_issues, m.n_mappings));
            let other = format!("{}x", &r.idempotency_key[1..]);
            prop_assert!(tracker_publish::verify_snapshot(&r.body, &other).is_err());
        }
    }
}
