#!/usr/bin/env python3
"""A plain-Python reference of spec-kitty-cli 2.1.3's tracker publish request.

Used by tests/python_differential.rs. Reads JSON-form inputs (one per line,
UTF-8) on stdin and, for each, writes one ASCII JSON line on stdout:

    {"endpoint": ..., "headers": [[name, value], ...], "body": ..., "idempotency_key": ...}

or, for a refusal,

    {"error": "<kind>"}

The request is computed the way the CLI computes it (feature 048, contract
2.1.0): the payload dict built in contract key order, serialised with
``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` and
``.encode()``, the v1 key ``hashlib.sha256`` of the documented string, the
CLI's ``str.strip()``, ``str.lower()``, alias map and token expression. On top
of that come the refusals the contract adds where the CLI fails its user
(publish-contract.md sections 6, 7 and 9): blank provider or workspace,
non-http(s) server URLs, URLs without a host or with user-info, tokens with a
character outside U+0021..U+007E, and inputs that are not well-formed.

Refusal precedence (not fixed by the contract; this follows the component):
invalid-input first (the input is read before anything else), then
not-configured, then invalid-server-url, then invalid-auth-token.

No third-party module is used; the standard library of Python 3.11 is enough.
"""

import hashlib
import json
import sys
import unicodedata
from urllib.parse import urlsplit

SNAPSHOTS_PATH = "/api/v1/connectors/trackers/snapshots/"

# service.py: canonical wire values, keyed by the normalised provider.
RESOURCE_ROUTING_MAP = {
    "jira": ("jira_project", "project_key"),
    "linear": ("linear_team", "team_id"),
}

# config.py: provider aliases, applied after strip and lower.
PROVIDER_ALIASES = {
    "azure-devops": "azure_devops",
    "azure": "azure_devops",
}


class Refused(Exception):
    """A refusal of one contract kind."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


# ---------------------------------------------------------------------------
# The JSON form of the input: read strictly (contract section 1 and 7).
# ---------------------------------------------------------------------------


def _no_repeated_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise Refused("invalid-input")
        out[key] = value
    return out


def _no_constants(_name):
    # NaN, Infinity, -Infinity: not JSON.
    raise Refused("invalid-input")


def _has_surrogate(s):
    return any("\ud800" <= c <= "\udfff" for c in s)


def _string(v):
    if type(v) is not str or _has_surrogate(v):
        raise Refused("invalid-input")


def _opt_string(v):
    if v is not None:
        _string(v)


def _opt_int(v):
    if v is None:
        return
    if type(v) is not int or not (-(2**63) <= v < 2**63):
        raise Refused("invalid-input")


def _string_map(v):
    if type(v) is not dict:
        raise Refused("invalid-input")
    for key, value in v.items():
        _string(key)
        _string(value)


def _string_list(v):
    if type(v) is not list:
        raise Refused("invalid-input")
    for item in v:
        _string(item)


def _object(v, fields, optional=()):
    if type(v) is not dict:
        raise Refused("invalid-input")
    for key in v:
        _string(key)
        if key not in fields:
            raise Refused("invalid-input")
    for key, check in fields.items():
        if key not in v:
            if key in optional:
                continue
            raise Refused("invalid-input")
        check(v[key])


def _list_of(check):
    def run(v):
        if type(v) is not list:
            raise Refused("invalid-input")
        for item in v:
            check(item)

    return run


REF_FIELDS = {
    "system": _string,
    "workspace": _string,
    "id": _string,
    "key": _opt_string,
    "url": _opt_string,
}

ISSUE_FIELDS = {
    "ref": lambda v: _object(v, REF_FIELDS),
    "title": _string,
    "body": _opt_string,
    "status": _string,
    "issue_type": _string,
    "priority": _opt_int,
    "assignees": _string_list,
    "labels": _string_list,
    "updated_at": _opt_string,
}

MAPPING_FIELDS = {
    "wp_id": _string,
    "system": _string,
    "workspace": _string,
    "external_id": _string,
    "external_key": _opt_string,
    "external_url": _opt_string,
    "created_at": _string,
    "updated_at": _string,
}

CHECKPOINT_FIELDS = {"cursor": _opt_string, "updated_since": _opt_string}


def _opt_checkpoint(v):
    if v is not None:
        _object(v, CHECKPOINT_FIELDS)


INPUT_FIELDS = {
    "server_url": _string,
    "auth_token": _opt_string,
    "provider": _string,
    "workspace": _string,
    "doctrine_mode": _opt_string,
    "doctrine_field_owners": _string_map,
    "credentials": _string_map,
    "project_uuid": _opt_string,
    "project_slug": _opt_string,
    "issues": _list_of(lambda v: _object(v, ISSUE_FIELDS)),
    "mappings": _list_of(lambda v: _object(v, MAPPING_FIELDS)),
    "checkpoint": _opt_checkpoint,
}


def read_input(line):
    try:
        value = json.loads(
            line,
            object_pairs_hook=_no_repeated_keys,
            parse_constant=_no_constants,
        )
    except ValueError:  # json.JSONDecodeError, and RecursionError-free here
        raise Refused("invalid-input") from None
    _object(value, INPUT_FIELDS, optional=("doctrine_mode",))
    return value


# ---------------------------------------------------------------------------
# The CLI's normalisation (config.py) and routing (service.py).
# ---------------------------------------------------------------------------


def normalize_provider(provider):
    value = str(provider).strip().lower()
    return PROVIDER_ALIASES.get(value, value)


def _resolve_resource_routing(provider, credentials):
    entry = RESOURCE_ROUTING_MAP.get(provider)
    if entry is None:
        return None, None
    resource_type, credential_key = entry
    resource_id = credentials.get(credential_key)
    if resource_id is None or not str(resource_id).strip():
        return None, None
    return resource_type, str(resource_id).strip()


# ---------------------------------------------------------------------------
# The refusals the contract adds (sections 6, 7, 9).
# ---------------------------------------------------------------------------


def check_server_url(server_url):
    base = server_url.rstrip("/")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in base):
        raise Refused("invalid-server-url")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise Refused("invalid-server-url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Refused("invalid-server-url")
    if "@" in parts.netloc:
        raise Refused("invalid-server-url")
    # A backslash in the authority: RFC 3986 forbids it and WHATWG parsers
    # (browsers) read it as "/", so the host would differ between readers.
    # The contract does not spell this out; like the component, refuse it.
    if "\\" in parts.netloc:
        raise Refused("invalid-server-url")
    if not parts.hostname:
        raise Refused("invalid-server-url")


def check_token(token):
    if token and not all("\x21" <= c <= "\x7e" for c in token):
        raise Refused("invalid-auth-token")


# ---------------------------------------------------------------------------
# sync_publish, as the CLI computes the request.
# ---------------------------------------------------------------------------


def _issue_snapshot(issue):
    ref = issue["ref"]
    return {
        "ref": {
            "system": ref["system"],
            "workspace": ref["workspace"],
            "id": ref["id"],
            "key": ref["key"],
            "url": ref["url"],
        },
        "title": issue["title"],
        "body": issue["body"],
        "status": issue["status"],
        "issue_type": issue["issue_type"],
        "priority": issue["priority"],
        "assignees": list(issue["assignees"]),
        "labels": list(issue["labels"]),
        "updated_at": issue["updated_at"],
    }


def _mapping(m):
    return {
        "wp_id": m["wp_id"],
        "system": m["system"],
        "workspace": m["workspace"],
        "external_id": m["external_id"],
        "external_key": m["external_key"],
        "external_url": m["external_url"],
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
    }


def sync_publish(inp):
    # config.py: TrackerProjectConfig as loaded.
    provider = normalize_provider(inp["provider"])
    workspace = str(inp["workspace"]).strip()
    doctrine_mode = str(inp.get("doctrine_mode") or "").strip() or "external_authoritative"
    doctrine_field_owners = {
        str(k): str(v)
        for k, v in inp["doctrine_field_owners"].items()
        if str(k).strip() and str(v).strip()
    }
    if not provider or not workspace:
        raise Refused("not-configured")

    server_url = inp["server_url"]
    check_server_url(server_url)

    credentials = inp["credentials"]
    auth_token = inp["auth_token"]
    token = auth_token or str(credentials.get("access_token") or credentials.get("token") or "").strip()
    check_token(token)

    issues = inp["issues"]
    mappings = inp["mappings"]
    checkpoint = inp["checkpoint"]
    resource_type, resource_id = _resolve_resource_routing(provider, credentials)

    payload = {
        "provider": provider,
        "workspace": workspace,
        "external_resource_type": resource_type,
        "external_resource_id": resource_id,
        "doctrine_mode": doctrine_mode,
        "doctrine_field_owners": dict(doctrine_field_owners),
        "project_uuid": inp["project_uuid"],
        "project_slug": inp["project_slug"],
        "issues": [_issue_snapshot(issue) for issue in issues],
        "mappings": [_mapping(m) for m in mappings],
        "checkpoint": {
            "cursor": checkpoint["cursor"] if checkpoint else None,
            "updated_since": checkpoint["updated_since"] if checkpoint else None,
        },
    }

    endpoint = server_url.rstrip("/") + SNAPSHOTS_PATH
    idempotency_key = hashlib.sha256(
        f"{provider}|{workspace}|{resource_type}|{resource_id}|{len(issues)}|{len(mappings)}|{payload['checkpoint']['cursor']}".encode(
            "utf-8"
        )
    ).hexdigest()

    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"

    # httpx >= 0.28: json.dumps(ensure_ascii=False, separators=(",", ":")).encode()
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return {
        "endpoint": endpoint,
        "headers": [[k, v] for k, v in headers.items()],
        "body": body.decode("utf-8"),
        "idempotency_key": idempotency_key,
    }


def main():
    data = sys.stdin.buffer.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = sys.stdout.buffer
    for raw in lines:
        try:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused("invalid-input") from None
            result = sync_publish(read_input(line))
        except Refused as refused:
            result = {"error": refused.kind}
        out.write(json.dumps(result, ensure_ascii=True).encode("ascii") + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
