//! The WebAssembly component export: a thin mapping between the WIT types and
//! the plain Rust API. No rule of the contract lives here.

use std::borrow::Cow;

use crate::{ErrorKind, IdempotencyScheme, PublishOptions};

// The lean world every client host embeds, or (feature `component-full`)
// the one of the `tracker-publish` command, which also reads stores and
// verifies what `serve` receives.
#[cfg(not(feature = "component-full"))]
wit_bindgen::generate!({
    path: "wit",
    world: "tracker-publish",
});
#[cfg(feature = "component-full")]
wit_bindgen::generate!({
    path: "wit",
    world: "tracker-publish-full",
});

use exports::spec_kitty::tracker::publish as wit;

struct Component;

export!(Component);

fn text(s: String) -> crate::Text<'static> {
    Cow::Owned(s)
}

fn opt(s: Option<String>) -> Option<crate::Text<'static>> {
    s.map(Cow::Owned)
}

fn pairs(v: Vec<(String, String)>) -> crate::Pairs<'static> {
    v.into_iter().map(|(k, v)| (text(k), text(v))).collect()
}

fn options(o: wit::PublishOptions) -> PublishOptions {
    PublishOptions {
        idempotency: match o.idempotency {
            wit::IdempotencyScheme::V1 => IdempotencyScheme::V1,
            wit::IdempotencyScheme::Content => IdempotencyScheme::Content,
        },
    }
}

fn kind(k: ErrorKind) -> wit::ErrorKind {
    match k {
        ErrorKind::NotConfigured => wit::ErrorKind::NotConfigured,
        ErrorKind::InvalidServerUrl => wit::ErrorKind::InvalidServerUrl,
        ErrorKind::InvalidAuthToken => wit::ErrorKind::InvalidAuthToken,
        ErrorKind::InvalidInput => wit::ErrorKind::InvalidInput,
        ErrorKind::TooLarge => wit::ErrorKind::TooLarge,
        ErrorKind::InvalidStoreRow => wit::ErrorKind::InvalidStoreRow,
    }
}

fn error(e: crate::PublishError) -> wit::PublishError {
    wit::PublishError {
        kind: kind(e.kind()),
        message: e.message().to_owned(),
    }
}

fn result(
    r: Result<crate::PublishRequest, crate::PublishError>,
) -> Result<wit::PublishRequest, wit::PublishError> {
    r.map(|r| wit::PublishRequest {
        endpoint: r.endpoint,
        headers: r.headers,
        body: r.body,
        idempotency_key: r.idempotency_key,
    })
    .map_err(error)
}

fn input(i: wit::SnapshotInput) -> crate::SnapshotInput<'static> {
    crate::SnapshotInput {
        server_url: text(i.server_url),
        auth_token: opt(i.auth_token),
        provider: text(i.provider),
        workspace: text(i.workspace),
        doctrine_mode: opt(i.doctrine_mode),
        doctrine_field_owners: pairs(i.doctrine_field_owners),
        credentials: pairs(i.credentials),
        project_uuid: opt(i.project_uuid),
        project_slug: opt(i.project_slug),
        issues: i
            .issues
            .into_iter()
            .map(|s| crate::IssueSnapshot {
                r#ref: crate::IssueRef {
                    system: text(s.ref_.system),
                    workspace: text(s.ref_.workspace),
                    id: text(s.ref_.id),
                    key: opt(s.ref_.key),
                    url: opt(s.ref_.url),
                },
                title: text(s.title),
                body: opt(s.body),
                status: text(s.status),
                issue_type: text(s.issue_type),
                priority: s.priority,
                assignees: s.assignees.into_iter().map(text).collect(),
                labels: s.labels.into_iter().map(text).collect(),
                updated_at: opt(s.updated_at),
            })
            .collect(),
        mappings: i
            .mappings
            .into_iter()
            .map(|m| crate::MappingRow {
                wp_id: text(m.wp_id),
                system: text(m.system),
                workspace: text(m.workspace),
                external_id: text(m.external_id),
                external_key: opt(m.external_key),
                external_url: opt(m.external_url),
                created_at: text(m.created_at),
                updated_at: text(m.updated_at),
            })
            .collect(),
        checkpoint: i.checkpoint.map(|c| crate::Checkpoint {
            cursor: opt(c.cursor),
            updated_since: opt(c.updated_since),
        }),
    }
}

impl wit::Guest for Component {
    fn normalize_provider(provider: String) -> String {
        crate::normalize_provider(&provider)
    }

    fn resolve_resource_routing(
        provider: String,
        credentials: Vec<(String, String)>,
    ) -> Option<wit::ResourceRouting> {
        crate::resolve_resource_routing(&provider, &credentials).map(|r| wit::ResourceRouting {
            resource_type: r.resource_type.to_owned(),
            resource_id: r.resource_id,
        })
    }

    fn build_snapshot_payload(
        input_: wit::SnapshotInput,
        options_: wit::PublishOptions,
    ) -> Result<wit::PublishRequest, wit::PublishError> {
        result(crate::build_snapshot_payload(
            &input(input_),
            &options(options_),
        ))
    }

    fn build_snapshot_payload_json(
        input_: String,
        options_: wit::PublishOptions,
    ) -> Result<wit::PublishRequest, wit::PublishError> {
        result(crate::build_snapshot_payload_json(
            &input_,
            &options(options_),
        ))
    }

    fn build_snapshot_payload_json_text(
        input_: String,
        options_: wit::PublishOptions,
    ) -> Result<wit::PublishRequestText, wit::PublishError> {
        let r = crate::build_snapshot_payload_json(&input_, &options(options_)).map_err(error)?;
        // The body writer emits UTF-8 only; the check is one pass and keeps
        // the guest free of `unsafe` here.
        let body = String::from_utf8(r.body).map_err(|_| wit::PublishError {
            kind: wit::ErrorKind::InvalidInput,
            message: "body: not valid UTF-8 (a bug in tracker-publish)".to_owned(),
        })?;
        Ok(wit::PublishRequestText {
            endpoint: r.endpoint,
            headers: r.headers,
            body,
            idempotency_key: r.idempotency_key,
        })
    }

    fn decide_retry(report: wit::AttemptReport, options: wit::RetryOptions) -> wit::RetryDecision {
        use crate::retry::{AttemptOutcome, RetryDecision, StopReason};
        let r = crate::AttemptReport {
            attempt: report.attempt,
            outcome: match report.outcome {
                wit::AttemptOutcome::Status(s) => AttemptOutcome::Status(s),
                wit::AttemptOutcome::ConnectionError => AttemptOutcome::ConnectionError,
                wit::AttemptOutcome::Timeout => AttemptOutcome::Timeout,
            },
            earlier_unanswered: report.earlier_unanswered,
            retry_after: report.retry_after.as_deref(),
            now_unix_ms: report.now_unix_ms,
            random: report.random,
        };
        let o = crate::RetryOptions {
            max_attempts: options.max_attempts,
            base_delay_ms: options.base_delay_ms,
            max_delay_ms: options.max_delay_ms,
        };
        match crate::decide_retry(&r, &o) {
            RetryDecision::RetryInMs(ms) => wit::RetryDecision::RetryInMs(ms),
            RetryDecision::Stop(why) => wit::RetryDecision::Stop(match why {
                StopReason::Success => wit::StopReason::Success,
                StopReason::NotRetryable => wit::StopReason::NotRetryable,
                StopReason::AttemptsExhausted => wit::StopReason::AttemptsExhausted,
            }),
        }
    }
}

/// The `store`, `receive` and `framed` interfaces of the `tracker-publish-full` world.
#[cfg(feature = "component-full")]
mod full {
    use super::*;
    use exports::spec_kitty::tracker::{framed, receive, store};

    impl store::Guest for Component {
        fn stored_timestamp(value: Option<String>) -> Option<String> {
            crate::stored_timestamp(value.as_deref())
        }

        fn store_scope(
            provider: String,
            workspace: String,
            credentials: Vec<(String, String)>,
        ) -> store::TrackerScope {
            let s = crate::tracker_scope(&provider, &workspace, &credentials);
            store::TrackerScope {
                identity: s.identity,
                scope: s.scope,
            }
        }

        fn build_snapshot_payload_from_store(
            input_: wit::SnapshotInput,
            issue_rows: Vec<store::StoredIssueRow>,
            options_: wit::PublishOptions,
        ) -> Result<wit::PublishRequest, wit::PublishError> {
            let rows: Vec<crate::StoredIssueRow<'static>> = issue_rows
                .into_iter()
                .map(|r| crate::StoredIssueRow {
                    identity: text(r.identity),
                    payload: text(r.payload),
                })
                .collect();
            let snapshot = crate::snapshot_from_store(input(input_), &rows).map_err(error)?;
            result(crate::build_snapshot_payload(&snapshot, &options(options_)))
        }
    }

    impl framed::Guest for Component {
        fn resolve_resource_routing_framed(request: String) -> String {
            crate::resolve_resource_routing_framed(&request)
        }

        fn build_snapshot_payload_framed(request: String) -> String {
            crate::build_snapshot_payload_framed(&request)
        }
    }

    impl receive::Guest for Component {
        fn verify_snapshot(
            body: Vec<u8>,
            idempotency_key: String,
        ) -> Result<receive::SnapshotReceipt, wit::PublishError> {
            match crate::verify_snapshot(&body, &idempotency_key) {
                Ok(r) => Ok(receive::SnapshotReceipt {
                    provider: r.provider,
                    workspace: r.workspace,
                    external_resource_type: r.external_resource_type,
                    external_resource_id: r.external_resource_id,
                    scheme: match r.scheme {
                        IdempotencyScheme::V1 => wit::IdempotencyScheme::V1,
                        IdempotencyScheme::Content => wit::IdempotencyScheme::Content,
                    },
                    // Both are at most 1,000,000 (limits.rs).
                    issues: u32::try_from(r.issues).unwrap_or(u32::MAX),
                    mappings: u32::try_from(r.mappings).unwrap_or(u32::MAX),
                    routing_key: r.routing_key,
                }),
                Err(e) => Err(wit::PublishError {
                    kind: kind(e.kind()),
                    message: e.message().to_owned(),
                }),
            }
        }
    }
}
