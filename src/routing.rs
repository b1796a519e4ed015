//! The resource routing map (contract section 3).

use crate::input::lookup;
use crate::normalize::py_strip;

/// Where the SaaS routes a snapshot. Exists whole or not at all, so the
/// routing fields are null together or set together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRouting {
    /// The stable contract string, e.g. `jira_project`.
    pub resource_type: &'static str,
    /// The credential value, stripped.
    pub resource_id: String,
}

/// The routing map: normalised provider -> (resource type, credential key).
/// These are wire values, not display labels.
pub const ROUTING_MAP: [(&str, &str, &str); 2] = [
    ("jira", "jira_project", "project_key"),
    ("linear", "linear_team", "team_id"),
];

/// The routing of an already normalised provider, as the CLI's
/// `_resolve_resource_routing`: `None` when the provider has no entry or the
/// credential is missing or blank. A key given twice: the last one counts.
pub fn resolve_resource_routing<K: AsRef<str>, V: AsRef<str>>(
    provider: &str,
    credentials: &[(K, V)],
) -> Option<ResourceRouting> {
    let &(_, resource_type, credential_key) =
        ROUTING_MAP.iter().find(|(p, _, _)| *p == provider)?;
    let id = py_strip(lookup(credentials, credential_key)?);
    if id.is_empty() {
        return None;
    }
    Some(ResourceRouting {
        resource_type,
        resource_id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn jira_and_linear_route_by_their_credential() {
        let r =
            resolve_resource_routing("jira", &creds(&[("project_key", " ACME\u{1C}")])).unwrap();
        assert_eq!(
            (r.resource_type, r.resource_id.as_str()),
            ("jira_project", "ACME")
        );
        let r = resolve_resource_routing("linear", &creds(&[("team_id", "t1")])).unwrap();
        assert_eq!(
            (r.resource_type, r.resource_id.as_str()),
            ("linear_team", "t1")
        );
    }

    #[test]
    fn unnormalised_provider_does_not_route_as_in_the_cli() {
        assert_eq!(
            resolve_resource_routing("Jira", &creds(&[("project_key", "A")])),
            None
        );
        assert_eq!(
            resolve_resource_routing(" jira", &creds(&[("project_key", "A")])),
            None
        );
    }

    #[test]
    fn missing_or_blank_credential_means_no_routing() {
        assert_eq!(resolve_resource_routing("jira", &creds(&[])), None);
        assert_eq!(
            resolve_resource_routing("jira", &creds(&[("project_key", "")])),
            None
        );
        assert_eq!(
            resolve_resource_routing("jira", &creds(&[("project_key", "\u{3000} ")])),
            None
        );
        assert_eq!(
            resolve_resource_routing("jira", &creds(&[("team_id", "x")])),
            None
        );
        assert_eq!(
            resolve_resource_routing("github", &creds(&[("project_key", "x")])),
            None
        );
    }

    #[test]
    fn last_repeated_key_wins() {
        let r = resolve_resource_routing(
            "jira",
            &creds(&[("project_key", "A"), ("project_key", "B")]),
        )
        .unwrap();
        assert_eq!(r.resource_id, "B");
    }
}
