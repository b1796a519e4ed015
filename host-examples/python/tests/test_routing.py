"""resolve_resource_routing and normalize_provider: the CLI's results, exactly."""

from __future__ import annotations

import random

import pytest
from conftest import base_input, load_reference
from test_differential import NON_ASCII, NOT_WHITE_SPACE, PROVIDERS, PY_WHITE_SPACE, SIGMA_WORDS, Gen

from tracker_publish import PublishError, build_snapshot_payload, normalize_provider, resolve_resource_routing

REF = load_reference()


@pytest.mark.parametrize(
    "provider, credentials, expected",
    [
        ("jira", {"project_key": "ACME"}, ("jira_project", "ACME")),
        ("jira", {"project_key": " \u3000ACME\t\n"}, ("jira_project", "ACME")),
        ("linear", {"team_id": "T-1", "project_key": "ACME"}, ("linear_team", "T-1")),
        ("linear", {"project_key": "ACME"}, (None, None)),
        ("jira", {"team_id": "T-1"}, (None, None)),
        ("jira", {}, (None, None)),
        ("jira", {"project_key": ""}, (None, None)),
        ("jira", {"project_key": " \u2028\u00a0 "}, (None, None)),
        ("jira", {"project_key": "\u200b"}, ("jira_project", "\u200b")),  # not Python white space
        ("jira", {"project_key": "None"}, ("jira_project", "None")),
        ("jira", {"Project_Key": "ACME"}, (None, None)),
        ("Jira", {"project_key": "ACME"}, (None, None)),  # not normalised: no routing, as in the CLI
        (" jira", {"project_key": "ACME"}, (None, None)),
        ("azure_devops", {"project_key": "ACME"}, (None, None)),
        ("github", {"project_key": "ACME"}, (None, None)),
        ("", {"project_key": "ACME"}, (None, None)),
    ],
)
def test_routing_cases(provider, credentials, expected):
    assert resolve_resource_routing(provider, credentials) == expected
    assert REF._resolve_resource_routing(provider, credentials) == expected


@pytest.mark.parametrize("value, found", [(None, "null"), (42, "a number"), (1.5, "a number"), (True, "a boolean"), (["A"], "an array"), ({"a": "b"}, "an object"), (b"ACME", "bytes")])
def test_non_string_credential_values_are_refused_naming_the_field(value, found):
    """The core's rule (as the JSON form and the Node package): not the CLI's `str(value)` / None-as-missing."""
    with pytest.raises(PublishError) as info:
        resolve_resource_routing("jira", {"email": "a@b", "project_key": value})
    assert info.value.kind == "invalid-input"
    assert info.value.message == f"credentials.project_key: expected a string, found {found}"
    # The same rule through the JSON form, for any key, used or not.
    inp = base_input()
    inp["credentials"] = {"team_id": value} if not isinstance(value, bytes) else {"team_id": 1}
    with pytest.raises(PublishError) as info:
        build_snapshot_payload(inp)
    assert info.value.kind == "invalid-input" and "credentials.team_id" in info.value.message


def test_odd_credential_keys_are_named_quoted():
    with pytest.raises(PublishError) as info:
        resolve_resource_routing("jira", {"project key": 1})
    assert info.value.message == 'credentials["project key"]: expected a string, found a number'
    with pytest.raises(PublishError) as info:
        resolve_resource_routing("jira", {1: "a"})
    assert info.value.message == "credentials: expected string keys, found a number"
    with pytest.raises(PublishError) as info:
        resolve_resource_routing(None, {})
    assert info.value.message == "provider: expected a string, found null"


def test_routing_result_is_a_tuple_of_two():
    r = resolve_resource_routing("jira", {"project_key": "ACME"})
    assert type(r) is tuple and len(r) == 2
    assert resolve_resource_routing("nope", {}) == (None, None)


def test_routing_against_the_cli_reference():
    g = Gen(7)
    for _ in range(3000):
        provider = normalize_provider(g.provider()) if g.chance(50) else g.pick(["jira", "linear", g.provider()])
        creds = g.credentials()
        assert resolve_resource_routing(provider, creds) == REF._resolve_resource_routing(provider, creds), (provider, creds)


@pytest.mark.parametrize("ws", PY_WHITE_SPACE, ids=[f"U+{ord(c):04X}" for c in PY_WHITE_SPACE])
def test_normalize_strips_each_python_white_space(ws):
    assert normalize_provider(f"{ws}Azure{ws}") == "azure_devops"
    assert normalize_provider(f"{ws}jira") == "jira"


@pytest.mark.parametrize("c", NOT_WHITE_SPACE, ids=[f"U+{ord(c):04X}" for c in NOT_WHITE_SPACE])
def test_normalize_keeps_what_is_not_white_space(c):
    assert normalize_provider(f"{c}jira") == REF.normalize_provider(f"{c}jira") == f"{c}jira".lower()


def test_normalize_against_the_cli_reference():
    rnd = random.Random(11)
    material = PROVIDERS + SIGMA_WORDS + NON_ASCII + PY_WHITE_SPACE + NOT_WHITE_SPACE + ["azure", "AZURE-devops", "İ̇", "ǅ"]
    for _ in range(2000):
        s = "".join(rnd.choice(material) for _ in range(rnd.randrange(4)))
        assert normalize_provider(s) == REF.normalize_provider(s), repr(s)
