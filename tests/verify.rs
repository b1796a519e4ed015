//! The receiving side: every shared vector's request verifies under both
//! schemes, and tampered bodies, keys and shapes are refused naming the
//! field. Each case reported by name.

mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use support::vectors::{Case, Expected, cases};
use tracker_publish::idempotency::content_key;
use tracker_publish::{
    ErrorKind, IdempotencyScheme, PublishOptions, SnapshotReceipt, build_snapshot_payload_json,
    verify_snapshot,
};

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(what().into()) }
}

/// The receipt must say what the body says.
fn check_receipt(
    r: &SnapshotReceipt,
    body: &[u8],
    scheme: IdempotencyScheme,
) -> Result<(), Failed> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body: {e}"))?;
    ensure(r.scheme == scheme, || {
        format!("scheme {:?}, expected {scheme:?}", r.scheme)
    })?;
    ensure(v["provider"] == r.provider.as_str(), || "provider".into())?;
    ensure(v["workspace"] == r.workspace.as_str(), || {
        "workspace".into()
    })?;
    ensure(
        v["external_resource_type"].as_str() == r.external_resource_type.as_deref()
            && v["external_resource_id"].as_str() == r.external_resource_id.as_deref(),
        || "routing".into(),
    )?;
    ensure(
        v["issues"].as_array().map(Vec::len) == Some(r.issues),
        || "issue count".into(),
    )?;
    ensure(
        v["mappings"].as_array().map(Vec::len) == Some(r.mappings),
        || "mapping count".into(),
    )?;
    let mut key = vec![r.provider.clone(), r.workspace.clone()];
    if let (Some(t), Some(id)) = (&r.external_resource_type, &r.external_resource_id) {
        key.push(t.clone());
        key.push(id.clone());
    }
    ensure(r.routing_key == key, || {
        format!("routing key {:?}", r.routing_key)
    })
}

fn roundtrip(case: Case, scheme: IdempotencyScheme) -> Trial {
    Trial::test(
        format!("roundtrip::{}::{}", scheme.as_str(), case.name),
        move || {
            let Expected::Request {
                body,
                idempotency_key,
                ..
            } = &case.expected
            else {
                unreachable!()
            };
            // v1: the vector's own expected bytes and key; content: the key of those bytes.
            let key = match scheme {
                IdempotencyScheme::V1 => idempotency_key.clone(),
                IdempotencyScheme::Content => content_key(body.as_bytes()),
            };
            let r = verify_snapshot(body.as_bytes(), &key).map_err(|e| e.to_string())?;
            check_receipt(&r, body.as_bytes(), scheme)?;
            // And what the core builds from the input verifies the same way.
            let built = build_snapshot_payload_json(
                &case.input_json,
                &PublishOptions {
                    idempotency: scheme,
                },
            )
            .map_err(|e| e.to_string())?;
            let again =
                verify_snapshot(&built.body, &built.idempotency_key).map_err(|e| e.to_string())?;
            ensure(again == r, || "built request verifies differently".into())
        },
    )
}

/// The body and v1 key of the vector with issues, mappings and a checkpoint.
fn sample() -> (String, String) {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "issues, mappings and checkpoint")
        .expect("vector");
    let Expected::Request {
        body,
        idempotency_key,
        ..
    } = case.expected
    else {
        unreachable!()
    };
    (body, idempotency_key)
}

/// A refusal case: `edit` turns the sample body into the tampered one; the key
/// is the content key of the tampered body unless `key` is given.
struct Refusal {
    name: &'static str,
    edit: fn(&str) -> Vec<u8>,
    key: Option<&'static str>,
    kind: ErrorKind,
    /// The message starts with this (the field path).
    starts: &'static str,
}

fn replace(body: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(body.contains(from), "sample body lacks {from:?}");
    body.replacen(from, to, 1).into_bytes()
}

fn refusals() -> Vec<Refusal> {
    use ErrorKind::{InvalidInput, TooLarge};
    vec![
        Refusal {
            name: "key of another body",
            edit: |b| b.as_bytes().to_vec(),
            key: Some("0000000000000000000000000000000000000000000000000000000000000000"),
            kind: InvalidInput,
            starts: "Idempotency-Key: ",
        },
        Refusal {
            name: "empty key",
            edit: |b| b.as_bytes().to_vec(),
            key: Some(""),
            kind: InvalidInput,
            starts: "Idempotency-Key: ",
        },
        Refusal {
            name: "id of an issue is a number",
            edit: |b| replace(b, r#""id":"10002""#, r#""id":10002"#),
            key: None,
            kind: InvalidInput,
            starts: "issues[1].ref.id: expected a string",
        },
        Refusal {
            name: "priority with a fraction",
            edit: |b| replace(b, r#""priority":2"#, r#""priority":2.5"#),
            key: None,
            kind: InvalidInput,
            starts: "issues[0].priority: ",
        },
        Refusal {
            name: "issue field missing",
            edit: |b| replace(b, r#""title":"Fix login","body":null,"#, ""),
            key: None,
            kind: InvalidInput,
            starts: "issues[1].status: out of contract order: expected field \"title\" first",
        },
        Refusal {
            name: "last issue field missing",
            edit: |b| replace(b, r#","updated_at":null}]"#, "}]"),
            key: None,
            kind: InvalidInput,
            starts: "issues[1].updated_at: missing field",
        },
        Refusal {
            name: "unknown field in a mapping",
            edit: |b| replace(b, r#""wp_id":"WP01","#, r#""wp_id":"WP01","extra":1,"#),
            key: None,
            kind: InvalidInput,
            starts: "mappings[0].extra: unknown field",
        },
        Refusal {
            name: "repeated top-level field",
            edit: |b| {
                replace(
                    b,
                    r#"{"provider":"jira","#,
                    r#"{"provider":"jira","provider":"jira","#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "provider: repeated key",
        },
        Refusal {
            name: "fields out of contract order",
            edit: |b| {
                replace(
                    b,
                    r#""provider":"jira","workspace":"acme.atlassian.net""#,
                    r#""workspace":"acme.atlassian.net","provider":"jira""#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "workspace: out of contract order: expected field \"provider\" first",
        },
        Refusal {
            name: "input form instead of payload",
            edit: |_| br#"{"server_url":"https://example.com"}"#.to_vec(),
            key: None,
            kind: InvalidInput,
            starts: "server_url: unknown field",
        },
        Refusal {
            name: "provider not normalised",
            edit: |b| replace(b, r#""provider":"jira""#, r#""provider":"Jira""#),
            key: None,
            kind: InvalidInput,
            starts: "provider: not normalised",
        },
        Refusal {
            name: "workspace not stripped",
            edit: |b| {
                replace(
                    b,
                    r#""workspace":"acme.atlassian.net","ext"#,
                    r#""workspace":" acme.atlassian.net","ext"#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "workspace: not stripped",
        },
        Refusal {
            name: "routing id without type",
            edit: |b| {
                replace(
                    b,
                    r#""external_resource_type":"jira_project""#,
                    r#""external_resource_type":null"#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "external_resource_type: null while external_resource_id is set",
        },
        Refusal {
            name: "routing type without id",
            edit: |b| {
                replace(
                    b,
                    r#""external_resource_id":"ACME""#,
                    r#""external_resource_id":null"#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "external_resource_id: null while external_resource_type is set",
        },
        Refusal {
            name: "routing type of another provider",
            edit: |b| replace(b, r#""jira_project""#, r#""linear_team""#),
            key: None,
            kind: InvalidInput,
            starts: "external_resource_type: expected \"jira_project\" for provider \"jira\"",
        },
        Refusal {
            name: "routing id not stripped",
            edit: |b| {
                replace(
                    b,
                    r#""external_resource_id":"ACME""#,
                    r#""external_resource_id":"ACME ""#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "external_resource_id: blank or not stripped",
        },
        Refusal {
            name: "blank doctrine mode",
            edit: |b| {
                replace(
                    b,
                    r#""doctrine_mode":"external_authoritative""#,
                    r#""doctrine_mode":"""#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "doctrine_mode: ",
        },
        Refusal {
            name: "blank field owner",
            edit: |b| {
                replace(
                    b,
                    r#""doctrine_field_owners":{}"#,
                    r#""doctrine_field_owners":{"title":" "}"#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "doctrine_field_owners[\"title\"]: blank key or value",
        },
        Refusal {
            name: "checkpoint null",
            edit: |b| {
                replace(
                    b,
                    r#""checkpoint":{"cursor":"c-42","updated_since":null}"#,
                    r#""checkpoint":null"#,
                )
            },
            key: None,
            kind: InvalidInput,
            starts: "checkpoint: expected an object",
        },
        Refusal {
            name: "white space between tokens",
            edit: |b| replace(b, r#""provider":"jira""#, r#""provider": "jira""#),
            key: None,
            kind: InvalidInput,
            starts: "body: not in the form a client writes",
        },
        Refusal {
            name: "escaped non-ASCII",
            edit: |b| replace(b, "\"ü\"", r#""\u00fc""#),
            key: None,
            kind: InvalidInput,
            starts: "body: not in the form a client writes",
        },
        Refusal {
            name: "escaped slash",
            edit: |b| replace(b, "browse/ACME-1", r"browse\/ACME-1"),
            key: None,
            kind: InvalidInput,
            starts: "body: not in the form a client writes",
        },
        Refusal {
            name: "trailing characters",
            edit: |b| format!("{b} x").into_bytes(),
            key: None,
            kind: InvalidInput,
            starts: "body: malformed JSON",
        },
        Refusal {
            name: "truncated",
            edit: |b| b.as_bytes()[..b.len() / 2].to_vec(),
            key: None,
            kind: InvalidInput,
            starts: "issues[0].",
        },
        Refusal {
            name: "invalid UTF-8",
            edit: |b| {
                replace(b, "ü", "\u{fc}")
                    .into_iter()
                    .map(|c| if c == 0xc3 { 0xff } else { c })
                    .collect()
            },
            key: None,
            kind: InvalidInput,
            starts: "body: not valid UTF-8",
        },
        Refusal {
            name: "not JSON",
            edit: |_| b"provider=jira".to_vec(),
            key: None,
            kind: InvalidInput,
            starts: "body: expected an object (the snapshot payload)",
        },
        Refusal {
            name: "string over the length limit",
            edit: |b| {
                let long = "x".repeat(tracker_publish::limits::MAX_STRING_BYTES + 1);
                replace(b, r#""title":"Fix login""#, &format!(r#""title":"{long}""#))
            },
            key: None,
            kind: TooLarge,
            starts: "issues[0].title: string of ",
        },
    ]
}

fn refusal(r: Refusal, base: &(String, String)) -> Trial {
    let (body, _) = base.clone();
    Trial::test(format!("refuse::{}", r.name), move || {
        let bytes = (r.edit)(&body);
        let key = r.key.map_or_else(|| content_key(&bytes), str::to_owned);
        match verify_snapshot(&bytes, &key) {
            Ok(receipt) => Err(format!("accepted: {receipt:?}").into()),
            Err(e) => {
                ensure(e.kind() == r.kind, || {
                    format!("kind {}, expected {}: {}", e.kind(), r.kind, e.message())
                })?;
                ensure(e.message().starts_with(r.starts), || {
                    format!(
                        "message {:?} does not start with {:?}",
                        e.message(),
                        r.starts
                    )
                })
            }
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for case in cases() {
        if matches!(case.expected, Expected::Request { .. }) {
            trials.push(roundtrip(case.clone(), IdempotencyScheme::V1));
            trials.push(roundtrip(case, IdempotencyScheme::Content));
        }
    }
    let base = sample();
    for r in refusals() {
        trials.push(refusal(r, &base));
    }
    // v1's known weakness, kept visible: an edited issue with the same counts
    // and cursor still carries the old v1 key, and verifies as v1; only a
    // receiver that compares bodies (serve's 422) notices.
    let (body, key) = base.clone();
    trials.push(Trial::test("v1 key survives an edited title", move || {
        let edited = body.replacen("Fix login", "Fix logout", 1);
        let r = verify_snapshot(edited.as_bytes(), &key).map_err(|e| e.to_string())?;
        ensure(r.scheme == IdempotencyScheme::V1, || "scheme".into())
    }));
    let (body, _) = base;
    trials.push(Trial::test("v1 key changes with the issue count", move || {
        let dropped = body.replacen(
            r#",{"ref":{"system":"jira","workspace":"acme.atlassian.net","id":"10002","key":null,"url":null},"title":"Fix login","body":null,"status":"in_progress","issue_type":"bug","priority":null,"assignees":[],"labels":[],"updated_at":null}"#,
            "",
            1,
        );
        ensure(dropped != body, || "edit did not apply".into())?;
        let (_, key) = sample();
        match verify_snapshot(dropped.as_bytes(), &key) {
            Err(e) if e.message().starts_with("Idempotency-Key: ") => Ok(()),
            other => Err(format!("{other:?}").into()),
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
