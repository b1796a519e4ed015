//! Arbitrary bytes as a provider and credential pairs for
//! `resolve_resource_routing` and `normalize_provider`.
//!
//! Layout: fields separated by a 0x00 byte (lossy UTF-8): the provider, then
//! key, value, key, value, ... (an odd last key gets an empty value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracker_publish::{normalize_provider, resolve_resource_routing};

/// Python's `str.isspace()`, written out here independently of the crate.
fn py_space(c: char) -> bool {
    matches!(
        c,
        '\u{09}'..='\u{0D}'
            | '\u{1C}'..='\u{20}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

fn check(provider: &str, credentials: &[(String, String)]) {
    let routing = resolve_resource_routing(provider, credentials);
    assert_eq!(
        routing,
        resolve_resource_routing(provider, credentials),
        "not deterministic"
    );
    // A model: provider -> (type, credential key); the last value for the key, stripped.
    let model = match provider {
        "jira" => Some(("jira_project", "project_key")),
        "linear" => Some(("linear_team", "team_id")),
        _ => None,
    }
    .and_then(|(ty, key)| {
        let v = credentials
            .iter()
            .rev()
            .find(|(k, _)| k == key)?
            .1
            .trim_matches(py_space);
        (!v.is_empty()).then(|| (ty, v.to_owned()))
    });
    if let Some(r) = &routing {
        assert!(!r.resource_id.is_empty(), "empty resource id");
        let first = r.resource_id.chars().next().unwrap();
        let last = r.resource_id.chars().next_back().unwrap();
        assert!(
            !py_space(first) && !py_space(last),
            "unstripped id {:?}",
            r.resource_id
        );
        assert!(
            matches!(r.resource_type, "jira_project" | "linear_team"),
            "type {:?}",
            r.resource_type
        );
    }
    assert_eq!(
        routing
            .as_ref()
            .map(|r| (r.resource_type, r.resource_id.clone())),
        model,
        "routing differs from the model for provider {provider:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let provider = fields.next().unwrap_or_default();
    let rest: Vec<String> = fields.collect();
    let credentials: Vec<(String, String)> = rest
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
        .collect();

    let normalized = normalize_provider(&provider);
    assert_eq!(
        normalized,
        normalize_provider(&provider),
        "normalize_provider not deterministic"
    );
    if let (Some(f), Some(l)) = (normalized.chars().next(), normalized.chars().next_back()) {
        assert!(
            !py_space(f) && !py_space(l),
            "normalized provider not stripped: {normalized:?}"
        );
    }
    check(&provider, &credentials);
    check(&normalized, &credentials);
});
