"""The spec-kitty tracker snapshot publish request, computed by the tracker-publish component.

A drop-in for the request-building part of spec-kitty's `sync_publish`: the
endpoint, the headers in wire order, the body bytes and the idempotency key
all come from the WebAssembly component (`dist/tracker_publish.wasm`, run by
wasmtime-py), which is the one place the contract is implemented. This
module only moves values in and out.

    from tracker_publish import build_snapshot_payload, PublishError

    req = build_snapshot_payload(snapshot_input)
    client.post(req.endpoint, content=req.body, headers=dict(req.headers))

The component is loaded once per process, on first use, and reused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from ._component import WASM_ENV, ComponentFailure, runtime, wasm_path

__all__ = [
    "PublishRequest",
    "PublishError",
    "ComponentFailure",
    "build_snapshot_payload",
    "resolve_resource_routing",
    "normalize_provider",
    "ERROR_KINDS",
    "WASM_ENV",
    "wasm_path",
]

#: The kinds of `publish-error` (WIT enum `error-kind`, contract section 7).
ERROR_KINDS = (
    "not-configured",
    "invalid-server-url",
    "invalid-auth-token",
    "invalid-input",
    "too-large",
    "invalid-config",
    "invalid-credentials",
    "store-missing",
    "invalid-store",
    "invalid-store-row",
)


class PublishError(Exception):
    """A refusal: `.kind` (kebab-case, one of `ERROR_KINDS`) for programs, `.message` for people.

    The message names the field at fault and never contains a token or a
    credential value.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"PublishError({self.kind!r}, {self.message!r})"


@dataclass(frozen=True)
class PublishRequest:
    """The request to send, exactly: send these bytes untouched."""

    #: The full URL to POST to.
    endpoint: str
    #: Header names and values, in wire order (`dict(headers)` keeps the order).
    headers: list[tuple[str, str]]
    #: The JSON body, exact bytes (UTF-8).
    body: bytes
    #: The `Idempotency-Key` header value, also in `headers`.
    idempotency_key: str


_SCHEMES = {"v1": {"idempotency": "v1"}, "content": {"idempotency": "content"}}


class _Options:
    # wasmtime-py lowers a record from an object's attributes.
    __slots__ = ("idempotency",)

    def __init__(self, idempotency: str) -> None:
        self.idempotency = idempotency


_OPTIONS = {name: _Options(name) for name in _SCHEMES}


def _input_json(input: Any) -> str:
    """The JSON text of the input, for the component to read and check.

    `ensure_ascii=False` keeps the text short; a lone surrogate cannot cross
    the component boundary as UTF-8, so such an input is sent with `\\u`
    escapes instead and the component refuses it naming the field.
    """
    try:
        text = json.dumps(input, ensure_ascii=False)
    except (TypeError, ValueError) as e:
        # Not representable as JSON (a set, bytes, a datetime, a cycle): say
        # what, never the value (it may be a token).
        raise PublishError("invalid-input", f"input: cannot be written as JSON ({type(e).__name__}: {_describe(e)})") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(input, ensure_ascii=True)
    return text


def _describe(e: Exception) -> str:
    # json's messages name the type ("Object of type bytes is not JSON
    # serializable", "Circular reference detected"), not the value.
    return str(e).split("\n", 1)[0][:120]


def build_snapshot_payload(input: Mapping[str, Any], *, idempotency: str = "v1") -> PublishRequest:
    """The publish request for one snapshot input (the JSON form of contract section 1).

    `input` is a dict like the `input` objects of the shared vectors:
    `server_url`, `auth_token`, `provider`, `workspace`, `doctrine_mode`,
    `doctrine_field_owners` and `credentials` (dicts), `project_uuid`,
    `project_slug`, `issues`, `mappings`, `checkpoint`. `idempotency` is `"v1"`
    (the CLI's key) or `"content"` (SHA-256 of the body bytes).

    Raises `PublishError` for a refused input, with the field path in the message.
    """
    options = _OPTIONS.get(idempotency) if isinstance(idempotency, str) else None
    if options is None:
        found = json.dumps(idempotency[:40]) if isinstance(idempotency, str) else type(idempotency).__name__
        raise PublishError("invalid-input", f'options.idempotency: expected "v1" or "content", found {found}')
    ok, value = runtime().call("build_snapshot_payload_json", _input_json(input), options)
    if not ok:
        raise PublishError(*value)
    endpoint, headers, body, key = value
    return PublishRequest(endpoint=endpoint, headers=headers, body=body, idempotency_key=key)


def resolve_resource_routing(provider: str, credentials: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The CLI's `_resolve_resource_routing(provider, credentials)`, result for result.

    `provider` is taken as already normalised (see `normalize_provider`), so
    `"Jira"` does not route, as in the CLI. Returns `(resource_type,
    resource_id)`, or `(None, None)` when the provider has no routing or the
    credential is missing or blank.
    """
    if not isinstance(provider, str):
        # The CLI looks a non-string up in its routing map and finds nothing.
        return None, None
    # The CLI reads a credential with `str(value)` and treats None as missing.
    pairs = [(k, v if isinstance(v, str) else str(v)) for k, v in credentials.items() if isinstance(k, str) and v is not None]
    try:
        routed = runtime().call("resolve_resource_routing", provider, pairs)
    except UnicodeEncodeError:
        raise PublishError("invalid-input", "credentials: a key or value is not valid Unicode (a lone surrogate)") from None
    if routed is None:
        return None, None
    return routed


def normalize_provider(provider: str) -> str:
    """The provider as the CLI normalises it: strip Python white space, lower-case, aliases (`azure`, `azure-devops` to `azure_devops`)."""
    if not isinstance(provider, str):
        raise PublishError("invalid-input", f"provider: expected a string, found {type(provider).__name__}")
    try:
        return runtime().call("normalize_provider", provider)
    except UnicodeEncodeError:
        raise PublishError("invalid-input", "provider: not valid Unicode (a lone surrogate)") from None
