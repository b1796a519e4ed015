//! The browser export (wasm-bindgen, `wasm-bindgen --target web`): a thin
//! mapping between JavaScript values and the plain Rust API, the way
//! `component.rs` maps WIT types. No rule of the contract lives here.
//!
//! From JavaScript:
//!
//! ```js
//! import init, { buildSnapshotPayloadJson } from "./tracker_publish.js";
//! await init();
//! const r = buildSnapshotPayloadJson(jsonText, "v1");
//! // r.endpoint, r.headers ([[name, value], ...] in wire order),
//! // r.body (Uint8Array, the exact bytes), r.idempotencyKey,
//! // r.routing ({resourceType, resourceId} or null)
//! ```
//!
//! A refusal is thrown as an `Error` named `PublishError` with `kind` (the
//! kebab-case kind of the WIT `error-kind`) and `message` (names the field,
//! never holds a secret).

use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::{ErrorKind, IdempotencyScheme, PublishError, PublishOptions};

#[wasm_bindgen]
extern "C" {
    /// A JavaScript string, seen through the one method used here.
    #[wasm_bindgen(extends = JsString)]
    type Utf16;

    /// `String.prototype.isWellFormed`: false when the string holds a lone
    /// surrogate, which the UTF-8 conversion would silently turn into U+FFFD.
    #[wasm_bindgen(method, js_name = isWellFormed)]
    fn is_well_formed(this: &Utf16) -> bool;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** The request to send, exactly (WIT `publish-request`). */
export interface PublishRequest {
    /** The full URL to POST to. */
    endpoint: string;
    /** Header names and values, in wire order. */
    headers: [string, string][];
    /** The JSON body, exact bytes (UTF-8). */
    body: Uint8Array;
    /** The Idempotency-Key header value, also in `headers`. */
    idempotencyKey: string;
    /** The routing the body carries; null when the provider has none. */
    routing: ResourceRouting | null;
}

/** Where the SaaS routes a snapshot (WIT `resource-routing`). */
export interface ResourceRouting {
    /** `jira_project` or `linear_team`. */
    resourceType: string;
    /** The credential value, stripped. */
    resourceId: string;
}

/** A refusal, thrown as an Error named "PublishError" (WIT `publish-error`). */
export interface PublishError extends Error {
    name: "PublishError";
    /** The kebab-case WIT `error-kind`, e.g. "invalid-server-url". */
    kind: "not-configured" | "invalid-server-url" | "invalid-auth-token" | "invalid-input" | "too-large"
        | "invalid-store-row";
}
"#;

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a fresh own property of a plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// The JavaScript form of a refusal: an `Error` named `PublishError`, with
/// `kind` and `message`.
fn js_error(kind: ErrorKind, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("PublishError");
    set(&e, "kind", &JsValue::from_str(kind.as_str()));
    e.into()
}

fn from_error(e: PublishError) -> JsValue {
    js_error(e.kind(), e.message())
}

/// A JavaScript string as UTF-8, refusing a lone surrogate rather than
/// letting it become U+FFFD unseen.
fn utf8(s: &JsString, what: &str) -> Result<String, JsValue> {
    if !s.unchecked_ref::<Utf16>().is_well_formed() {
        return Err(js_error(
            ErrorKind::InvalidInput,
            &format!("{what}: contains a lone surrogate (not valid Unicode)"),
        ));
    }
    Ok(String::from(s))
}

fn scheme(name: Option<String>) -> Result<IdempotencyScheme, JsValue> {
    match name.as_deref() {
        None | Some("") => Ok(IdempotencyScheme::default()),
        Some(n) => IdempotencyScheme::from_name(n).ok_or_else(|| {
            js_error(
                ErrorKind::InvalidInput,
                "options.idempotency: expected \"v1\" or \"content\"",
            )
        }),
    }
}

fn routing_object(r: Option<crate::ResourceRouting>) -> JsValue {
    match r {
        None => JsValue::NULL,
        Some(r) => {
            let o = Object::new();
            set(&o, "resourceType", &JsValue::from_str(r.resource_type));
            set(&o, "resourceId", &JsValue::from_str(&r.resource_id));
            o.into()
        }
    }
}

/// Computes the request from the JSON form of the input (WIT
/// `build-snapshot-payload-json`); `idempotency` is `"v1"` (the default) or
/// `"content"`.
///
/// Returns `{endpoint, headers, body, idempotencyKey, routing}`: `headers`
/// as `[name, value]` pairs in wire order, `body` a `Uint8Array` of the exact
/// bytes, `routing` the resource routing the body carries (`null` when the
/// provider has none). Throws a `PublishError` on refusal.
#[wasm_bindgen(
    js_name = buildSnapshotPayloadJson,
    unchecked_return_type = "PublishRequest"
)]
pub fn build_snapshot_payload_json(
    input: &JsString,
    #[wasm_bindgen(unchecked_optional_param_type = "\"v1\" | \"content\"")] idempotency: Option<
        String,
    >,
) -> Result<JsValue, JsValue> {
    let input = utf8(input, "input")?;
    let options = PublishOptions {
        idempotency: scheme(idempotency)?,
    };
    let request = crate::build_snapshot_payload_json(&input, &options).map_err(from_error)?;
    // The routing the core put in the body, for display: read again from
    // the (already accepted) input, never re-derived here.
    let routing = crate::json::read_snapshot_input(&input).ok().and_then(|i| {
        crate::resolve_resource_routing(&crate::normalize_provider(&i.provider), &i.credentials)
    });

    let headers = Array::new();
    for (name, value) in &request.headers {
        headers.push(&Array::of2(
            &JsValue::from_str(name),
            &JsValue::from_str(value),
        ));
    }
    let out = Object::new();
    set(&out, "endpoint", &JsValue::from_str(&request.endpoint));
    set(&out, "headers", &headers);
    set(&out, "body", &Uint8Array::from(request.body.as_slice()));
    set(
        &out,
        "idempotencyKey",
        &JsValue::from_str(&request.idempotency_key),
    );
    set(&out, "routing", &routing_object(routing));
    Ok(out.into())
}

/// Normalises a provider as the CLI does (WIT `normalize-provider`).
#[wasm_bindgen(js_name = normalizeProvider)]
pub fn normalize_provider(provider: &JsString) -> Result<String, JsValue> {
    Ok(crate::normalize_provider(&utf8(provider, "provider")?))
}

/// The routing of contract section 3 (WIT `resolve-resource-routing`) for an
/// already normalised provider and a credentials object of strings:
/// `{resourceType, resourceId}` or `null`.
#[wasm_bindgen(
    js_name = resolveResourceRouting,
    unchecked_return_type = "ResourceRouting | null"
)]
pub fn resolve_resource_routing(
    provider: &JsString,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] credentials: &Object,
) -> Result<JsValue, JsValue> {
    let provider = utf8(provider, "provider")?;
    let mut pairs = Vec::new();
    for entry in Object::entries(credentials).iter() {
        let entry = Array::from(&entry);
        let key = JsString::from(entry.get(0));
        let path = format!("credentials[{:?}]", String::from(&key));
        let key = utf8(&key, "credentials")?;
        let value = entry.get(1).dyn_into::<JsString>().map_err(|_| {
            js_error(
                ErrorKind::InvalidInput,
                &format!("{path}: expected a string"),
            )
        })?;
        pairs.push((key, utf8(&value, &path)?));
    }
    Ok(routing_object(crate::resolve_resource_routing(
        &provider, &pairs,
    )))
}
