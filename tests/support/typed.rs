//! The typed input from a JSON input object, as a Rust host would build it.

use serde_json::Value;
use tracker_publish::{
    Checkpoint, IssueRef, IssueSnapshot, MappingRow, Pairs, SnapshotInput, Text,
};

fn t(v: &Value) -> Text<'static> {
    v.as_str().expect("a string").to_owned().into()
}

fn o(v: &Value) -> Option<Text<'static>> {
    v.as_str().map(|s| s.to_owned().into())
}

fn pairs(v: &Value) -> Pairs<'static> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone().into(), t(v)))
        .collect()
}

fn list(v: &Value) -> Vec<Text<'static>> {
    v.as_array().expect("a list").iter().map(t).collect()
}

/// The typed form of a (well-formed) JSON input object.
pub fn typed_input(v: &Value) -> SnapshotInput<'static> {
    SnapshotInput {
        server_url: t(&v["server_url"]),
        auth_token: o(&v["auth_token"]),
        provider: t(&v["provider"]),
        workspace: t(&v["workspace"]),
        doctrine_mode: o(&v["doctrine_mode"]),
        doctrine_field_owners: pairs(&v["doctrine_field_owners"]),
        credentials: pairs(&v["credentials"]),
        project_uuid: o(&v["project_uuid"]),
        project_slug: o(&v["project_slug"]),
        issues: v["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .map(|i| IssueSnapshot {
                r#ref: IssueRef {
                    system: t(&i["ref"]["system"]),
                    workspace: t(&i["ref"]["workspace"]),
                    id: t(&i["ref"]["id"]),
                    key: o(&i["ref"]["key"]),
                    url: o(&i["ref"]["url"]),
                },
                title: t(&i["title"]),
                body: o(&i["body"]),
                status: t(&i["status"]),
                issue_type: t(&i["issue_type"]),
                priority: i["priority"].as_i64(),
                assignees: list(&i["assignees"]),
                labels: list(&i["labels"]),
                updated_at: o(&i["updated_at"]),
            })
            .collect(),
        mappings: v["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .map(|m| MappingRow {
                wp_id: t(&m["wp_id"]),
                system: t(&m["system"]),
                workspace: t(&m["workspace"]),
                external_id: t(&m["external_id"]),
                external_key: o(&m["external_key"]),
                external_url: o(&m["external_url"]),
                created_at: t(&m["created_at"]),
                updated_at: t(&m["updated_at"]),
            })
            .collect(),
        checkpoint: v["checkpoint"].as_object().map(|c| Checkpoint {
            cursor: o(&c["cursor"]),
            updated_since: o(&c["updated_since"]),
        }),
    }
}
