"""The spec-kitty tracker snapshot publish request, computed by the tracker-publish component.

A drop-in for the request-building part of spec-kitty's `sync_publish`: the
endpoint, the headers in wire order, the body bytes and the idempotency key
all come from the WebAssembly component (`dist/tracker_publish_full.wasm`, run by
wasmtime-py), which is the one place the contract is implemented. This
module only moves values in and out.

    from tracker_publish import build_snapshot_payload, PublishError

    req = build_snapshot_payload(snapshot_input)
    client.post(req.endpoint, content=req.body, headers=dict(req.headers))

The component is loaded once per process, on first use, and reused; its
compiled form is cached in the user's cache directory (see `_component`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from ._component import CACHE_ENV, WASM_ENV, ComponentFailure, runtime, wasm_path

__all__ = [
    "PublishRequest",
    "PublishError",
    "ComponentFailure",
    "build_snapshot_payload",
    "resolve_resource_routing",
    "normalize_provider",
    "credential_pairs",
    "ERROR_KINDS",
    "HOST_ERROR_KINDS",
    "publish",
    "PublishResult",
    "RetryOptions",
    "decide_retry",
    "WASM_ENV",
    "CACHE_ENV",
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
    """A refusal: `.kind` (kebab-case, one of `ERROR_KINDS`, or of `HOST_ERROR_KINDS` from `publish`) for programs, `.message` for people.

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


_SCHEMES = ("v1", "content")

# wasmtime lifts at most 128 MiB per call (its default hostcall fuel, which
# wasmtime-py's API does not expose); the body is one string, so this is the
# largest body the package can return.
_HOSTCALL_FUEL = "fuel allocated for hostcalls has been exhausted"
_FUEL_MESSAGE = (
    "body: over 128 MiB, the most wasmtime-py lifts from one call (wasmtime's hostcall fuel, "
    "not settable through wasmtime-py's API); the tracker-publish command has no such limit"
)



def _input_json(input: Any, ascii_only: bool = False) -> str:
    """The JSON text of the input, for the component to read and check.

    JSON text (`str`, `bytes`) is passed as written; a dict is written with
    `json.dumps` (`ensure_ascii=False` keeps it short; `ascii_only` escapes
    everything, for a text holding a lone surrogate, which cannot cross the
    component boundary as UTF-8; the component then refuses it naming the field).
    """
    if isinstance(input, str):
        # A surrogate is only valid JSON inside a string: escaped, it stays there.
        if not ascii_only:
            return input
        import re  # only for a text holding a lone surrogate: not at import time

        return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", input)
    if isinstance(input, (bytes, bytearray, memoryview)):
        try:
            return bytes(input).decode("utf-8")
        except UnicodeDecodeError as e:
            raise PublishError("invalid-input", f"input: not UTF-8 (byte offset {e.start})") from None
    try:
        return json.dumps(input, ensure_ascii=ascii_only)
    except (TypeError, ValueError) as e:
        # Not representable as JSON (a set, bytes, a datetime, a cycle): say
        # what, never the value (it may be a token).
        raise PublishError("invalid-input", f"input: cannot be written as JSON ({type(e).__name__}: {_describe(e)})") from None


def _describe(e: Exception) -> str:
    # json's messages name the type ("Object of type bytes is not JSON
    # serializable", "Circular reference detected"), not the value.
    return str(e).split("\n", 1)[0][:120]


def _scheme(idempotency: Any) -> str:
    if idempotency in _SCHEMES and type(idempotency) is str:
        return idempotency
    found = json.dumps(idempotency[:40]) if isinstance(idempotency, str) else type(idempotency).__name__
    raise PublishError("invalid-input", f'options.idempotency: expected "v1" or "content", found {found}')


def _framed_request(scheme: str, text: str) -> str:
    return text if scheme == "v1" else f"{scheme}\n{text}"


def _request(frame: str) -> PublishRequest:
    """A `build-snapshot-payload-framed` result (WIT interface `framed`): fields up to U+000A, the body the rest."""
    if not frame.startswith("ok\n"):
        _, kind, message = frame.split("\n", 2)
        raise PublishError(kind, message)
    find = frame.index
    a = find("\n", 3)
    b = find("\n", a + 1)
    c = find("\n", b + 1)
    headers = []
    at = c + 1
    for _ in range(int(frame[b + 1 : c])):
        d = find("\n", at)
        e = find("\n", d + 1)
        headers.append((frame[at:d], frame[d + 1 : e]))
        at = e + 1
    # One encode of the whole frame, then the body's bytes: no copy of the
    # body as text first (the fields before it are short).
    head = len(frame[:at].encode("utf-8"))
    return PublishRequest(endpoint=frame[3:a], headers=headers, body=frame.encode("utf-8")[head:], idempotency_key=frame[a + 1 : b])


def build_snapshot_payload(input: Mapping[str, Any] | str | bytes, *, idempotency: str = "v1") -> PublishRequest:
    """The publish request for one snapshot input (the JSON form of contract section 1).

    `input` is a dict like the `input` objects of the shared vectors:
    `server_url`, `auth_token`, `provider`, `workspace`, `doctrine_mode`,
    `doctrine_field_owners` and `credentials` (dicts), `project_uuid`,
    `project_slug`, `issues`, `mappings`, `checkpoint`; or that object as JSON
    text (`str` or UTF-8 `bytes`), used exactly as written (the fast path:
    no `json.dumps`, and the order of every map is the text's). `idempotency`
    is `"v1"` (the CLI's key) or `"content"` (SHA-256 of the body bytes).

    Raises `PublishError` for a refused input, with the field path in the message.
    """
    scheme = _scheme(idempotency)
    rt = runtime()
    text = _input_json(input)
    try:
        try:
            # The input alone means scheme v1 (WIT interface `framed`): no copy of it.
            frame = rt.call("build-snapshot-payload-framed", _framed_request(scheme, text))
        except UnicodeEncodeError:
            # A lone surrogate: sent escaped, so the core names the field.
            frame = rt.call("build-snapshot-payload-framed", _framed_request(scheme, _input_json(input, ascii_only=True)))
    except ComponentFailure as e:
        if _HOSTCALL_FUEL in str(e):
            raise PublishError("too-large", _FUEL_MESSAGE) from None
        raise
    return _request(frame)


_JSON_KIND = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", list: "an array", tuple: "an array", dict: "an object"}


def _kind(v: Any) -> str:
    return _JSON_KIND.get(type(v)) or ("an object" if isinstance(v, Mapping) else type(v).__name__)


def _field(k: str) -> str:
    return f"credentials.{k}" if k.isidentifier() else f"credentials[{json.dumps(k)}]"


def credential_pairs(credentials: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The credentials as (key, value) string pairs, in order; the core's rule for anything else.

    A non-string key or value (None, a number, a boolean, a list) is refused
    as `invalid-input` naming the field and the type found, never the value:
    the same rule as the JSON form's reader and the Node package.
    """
    if not isinstance(credentials, Mapping):
        raise PublishError("invalid-input", f"credentials: expected an object, found {_kind(credentials)}")
    pairs = []
    for k, v in credentials.items():
        if not isinstance(k, str):
            raise PublishError("invalid-input", f"credentials: expected string keys, found {_kind(k)}")
        if not isinstance(v, str):
            raise PublishError("invalid-input", f"{_field(k)}: expected a string, found {_kind(v)}")
        pairs.append((k, v))
    return pairs


def resolve_resource_routing(provider: str, credentials: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The CLI's `_resolve_resource_routing(provider, credentials)`, result for result.

    `provider` is taken as already normalised (see `normalize_provider`), so
    `"Jira"` does not route, as in the CLI. Returns `(resource_type,
    resource_id)`, or `(None, None)` when the provider has no routing or the
    credential is missing or blank. Credential values must be strings
    (`credential_pairs`): anything else is `invalid-input` naming the field.
    """
    if not isinstance(provider, str):
        raise PublishError("invalid-input", f"provider: expected a string, found {_kind(provider)}")
    if type(credentials) is not dict or not all(type(k) is str and type(v) is str for k, v in credentials.items()):
        credentials = dict(credential_pairs(credentials))
    try:
        # The credentials as a JSON object of strings, in order (json.dumps
        # writes no line feed), a line feed, the provider (WIT interface `framed`).
        frame = runtime().call("resolve-resource-routing-framed", json.dumps(credentials, ensure_ascii=False) + "\n" + provider)
    except UnicodeEncodeError:
        raise PublishError("invalid-input", "provider or credentials: not valid Unicode (a lone surrogate)") from None
    if frame == "none":
        return None, None
    tag, first, last = frame.split("\n", 2)
    if tag != "some":
        raise PublishError(first, last)
    return first, last


def normalize_provider(provider: str) -> str:
    """The provider as the CLI normalises it: strip Python white space, lower-case, aliases (`azure`, `azure-devops` to `azure_devops`)."""
    if not isinstance(provider, str):
        raise PublishError("invalid-input", f"provider: expected a string, found {type(provider).__name__}")
    try:
        return runtime().call("normalize-provider", provider)
    except UnicodeEncodeError:
        raise PublishError("invalid-input", "provider: not valid Unicode (a lone surrogate)") from None


_LAZY = ("HOST_ERROR_KINDS", "PublishResult", "RetryOptions", "decide_retry", "publish")

if TYPE_CHECKING:
    from ._publish import HOST_ERROR_KINDS, PublishResult, RetryOptions, decide_retry, publish


def __getattr__(name: str) -> Any:
    # The sending half loads on first use (PEP 562): a process that only
    # builds requests skips its import at start-up.
    if name in _LAZY:
        from . import _publish

        value = getattr(_publish, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
