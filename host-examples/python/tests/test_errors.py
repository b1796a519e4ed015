"""Refusals: PublishError and its kinds, messages without secrets, Python values JSON cannot carry."""

from __future__ import annotations

import pytest
from conftest import base_input

import tracker_publish
from tracker_publish import ERROR_KINDS, PublishError, build_snapshot_payload, normalize_provider, resolve_resource_routing


def refused(inp, kind, prefix=None, secrets=(), **kw):
    with pytest.raises(PublishError) as info:
        build_snapshot_payload(inp, **kw)
    e = info.value
    assert e.kind == kind, e.message
    assert e.kind in ERROR_KINDS
    assert e.message and e.args == (e.message,)
    if prefix is not None:
        assert e.message.startswith(prefix), e.message
    for s in secrets:
        assert s not in e.message, e.message
    return e


def edited(**fields):
    inp = base_input()
    inp.update(fields)
    return inp


def test_publish_error_shape():
    e = PublishError("too-large", "issues: too many")
    assert isinstance(e, Exception)
    assert (e.kind, e.message, str(e)) == ("too-large", "issues: too many", "issues: too many")
    assert repr(e) == "PublishError('too-large', 'issues: too many')"


def test_every_contract_refusal_has_its_kind():
    refused(edited(provider=" \u3000 "), "not-configured", "provider:")
    refused(edited(workspace=""), "not-configured", "workspace:")
    refused(edited(server_url="file:///etc"), "invalid-server-url", "server_url:")
    refused(edited(server_url="https://"), "invalid-server-url", "server_url:")
    refused(edited(auth_token="tab\there"), "invalid-auth-token", "auth_token:")
    refused(edited(issues="none"), "invalid-input", "issues:")
    refused(edited(credentials={f"k{n}": "v" for n in range(10_001)}), "too-large", "credentials")


def test_field_paths_from_the_core():
    inp = base_input()
    inp["issues"] = [{"ref": {"system": "jira", "workspace": "w", "id": 7, "key": None, "url": None}}]
    e = refused(inp, "invalid-input")
    assert "issues[0]" in e.message
    refused(edited(extra=1), "invalid-input", "extra:")
    inp = base_input()
    del inp["provider"]
    assert "provider" in refused(inp, "invalid-input").message


def test_messages_never_hold_a_secret():
    for token in ["s3cr3t-T0KEN-\u00e9", "abc\r\nX-Evil: 1", "padded-token "]:
        refused(edited(auth_token=token), "invalid-auth-token", "auth_token:", [token.strip()])
    for key in ("access_token", "token"):
        token = "cr\u00e9dential-token-value"
        inp = edited(auth_token=None)
        inp["credentials"][key] = token
        refused(inp, "invalid-auth-token", None, [token])
    refused(edited(server_url="https://alice:hunter2-pw@example.com"), "invalid-server-url", "server_url:", ["hunter2-pw", "alice:hunter2"])
    # A value JSON cannot carry is named by type, never shown.
    refused(edited(auth_token=b"bytes-secret-token"), "invalid-input", "input:", ["bytes-secret-token"])


def test_python_values_json_cannot_carry():
    refused(edited(credentials={"project_key": {"x"}}), "invalid-input", "input:")
    cyclic = base_input()
    cyclic["issues"] = [cyclic]
    refused(cyclic, "invalid-input", "input:")
    # NaN is written by json.dumps and refused by the core's JSON reader.
    inp = base_input()
    inp["issues"] = [{"priority": float("nan")}]
    refused(inp, "invalid-input")
    refused(["not", "an", "object"], "invalid-input")
    refused(None, "invalid-input")


def test_lone_surrogates_are_refused_by_the_core_naming_the_field():
    e = refused(edited(workspace="a\ud800b"), "invalid-input")
    assert "workspace" in e.message
    with pytest.raises(PublishError) as info:
        resolve_resource_routing("jira", {"project_key": "\udfff"})
    assert info.value.kind == "invalid-input"
    with pytest.raises(PublishError):
        normalize_provider("\ud800")


def test_idempotency_option():
    refused(base_input(), "invalid-input", "options.idempotency:", idempotency="V1")
    refused(base_input(), "invalid-input", "options.idempotency:", idempotency=None)
    assert build_snapshot_payload(base_input(), idempotency="content").idempotency_key != build_snapshot_payload(base_input()).idempotency_key


def test_the_component_keeps_working_after_refusals():
    for _ in range(200):
        with pytest.raises(PublishError):
            build_snapshot_payload(edited(provider=""))
    r = build_snapshot_payload(base_input())
    assert r.endpoint == "https://example.com/api/v1/connectors/trackers/snapshots/"


def test_not_a_mapping_of_credentials_for_routing():
    with pytest.raises(PublishError) as info:
        resolve_resource_routing("jira", ["project_key"])
    assert (info.value.kind, info.value.message) == ("invalid-input", "credentials: expected an object, found an array")


def test_public_names():
    for name in tracker_publish.__all__:
        assert hasattr(tracker_publish, name)
