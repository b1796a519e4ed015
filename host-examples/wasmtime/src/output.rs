//! What the commands print, and the typed records for a JSON input.

use anyhow::anyhow;

use crate::{Checkpoint, Error, IssueRef, IssueSnapshot, MappingRow, Request, SnapshotInput};

/// The typed WIT records for a JSON input object, as a Rust host that holds
/// typed data would build them (used by `bench` and the tests). This is
/// plumbing only: no rule of the contract is applied here.
pub fn typed_input(v: &serde_json::Value) -> anyhow::Result<SnapshotInput> {
    use serde_json::Value;
    fn t(v: &Value, what: &str) -> anyhow::Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{what}: expected a string"))
    }
    fn o(v: &Value, what: &str) -> anyhow::Result<Option<String>> {
        if v.is_null() {
            Ok(None)
        } else {
            t(v, what).map(Some)
        }
    }
    fn pairs(v: &Value, what: &str) -> anyhow::Result<Vec<(String, String)>> {
        let map = v
            .as_object()
            .ok_or_else(|| anyhow!("{what}: expected an object"))?;
        map.iter()
            .map(|(k, v)| Ok((k.clone(), t(v, what)?)))
            .collect()
    }
    fn list(v: &Value, what: &str) -> anyhow::Result<Vec<String>> {
        let items = v
            .as_array()
            .ok_or_else(|| anyhow!("{what}: expected a list"))?;
        items.iter().map(|s| t(s, what)).collect()
    }
    fn array<'v>(v: &'v Value, what: &str) -> anyhow::Result<&'v Vec<Value>> {
        v.as_array()
            .ok_or_else(|| anyhow!("{what}: expected a list"))
    }
    Ok(SnapshotInput {
        server_url: t(&v["server_url"], "server_url")?,
        auth_token: o(&v["auth_token"], "auth_token")?,
        provider: t(&v["provider"], "provider")?,
        workspace: t(&v["workspace"], "workspace")?,
        doctrine_mode: o(&v["doctrine_mode"], "doctrine_mode")?,
        doctrine_field_owners: pairs(&v["doctrine_field_owners"], "doctrine_field_owners")?,
        credentials: pairs(&v["credentials"], "credentials")?,
        project_uuid: o(&v["project_uuid"], "project_uuid")?,
        project_slug: o(&v["project_slug"], "project_slug")?,
        issues: array(&v["issues"], "issues")?
            .iter()
            .map(|i| {
                let r = &i["ref"];
                Ok(IssueSnapshot {
                    ref_: IssueRef {
                        system: t(&r["system"], "ref.system")?,
                        workspace: t(&r["workspace"], "ref.workspace")?,
                        id: t(&r["id"], "ref.id")?,
                        key: o(&r["key"], "ref.key")?,
                        url: o(&r["url"], "ref.url")?,
                    },
                    title: t(&i["title"], "title")?,
                    body: o(&i["body"], "body")?,
                    status: t(&i["status"], "status")?,
                    issue_type: t(&i["issue_type"], "issue_type")?,
                    priority: i["priority"].as_i64(),
                    assignees: list(&i["assignees"], "assignees")?,
                    labels: list(&i["labels"], "labels")?,
                    updated_at: o(&i["updated_at"], "updated_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        mappings: array(&v["mappings"], "mappings")?
            .iter()
            .map(|m| {
                Ok(MappingRow {
                    wp_id: t(&m["wp_id"], "wp_id")?,
                    system: t(&m["system"], "system")?,
                    workspace: t(&m["workspace"], "workspace")?,
                    external_id: t(&m["external_id"], "external_id")?,
                    external_key: o(&m["external_key"], "external_key")?,
                    external_url: o(&m["external_url"], "external_url")?,
                    created_at: t(&m["created_at"], "created_at")?,
                    updated_at: t(&m["updated_at"], "updated_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        checkpoint: match &v["checkpoint"] {
            Value::Null => None,
            c => Some(Checkpoint {
                cursor: o(&c["cursor"], "checkpoint.cursor")?,
                updated_since: o(&c["updated_since"], "checkpoint.updated_since")?,
            }),
        },
    })
}

/// The request as `preview` prints it: `{"endpoint", "headers", "body",
/// "idempotency_key"}`, with the `Authorization` value masked unless
/// `show_secrets`.
pub fn request_json(r: &Request, show_secrets: bool) -> serde_json::Value {
    let headers: Vec<serde_json::Value> = r
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name.eq_ignore_ascii_case("authorization") && !show_secrets {
                "Bearer ***"
            } else {
                value.as_str()
            };
            serde_json::json!([name, value])
        })
        .collect();
    serde_json::json!({
        "endpoint": r.endpoint,
        "headers": headers,
        "body": String::from_utf8_lossy(&r.body),
        "idempotency_key": r.idempotency_key,
    })
}

/// A refusal as every command prints it: `{"error": {"kind", "message"}}`.
pub fn error_json(e: &Error) -> serde_json::Value {
    serde_json::json!({"error": {"kind": e.kind().as_str(), "message": e.message()}})
}
