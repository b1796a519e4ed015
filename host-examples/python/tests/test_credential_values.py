"""The credential-values table (tests/credential_values.json), the one rule every host follows.

A credential value that is not a string is refused as invalid-input naming the
key (never str()-converted, None never "missing"); strings are used as given.
Each case runs from a dict and from JSON text, reported by name.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from tracker_publish import PublishError, build_snapshot_payload

TABLE_PATH = REPO / "tests" / "credential_values.json"
#: The table held this many cases when this was written; fewer means some went missing.
MIN_CASES = 15
CASES = json.loads(TABLE_PATH.read_text(encoding="utf-8"))["cases"]


def test_the_table_is_complete():
    assert len(CASES) >= MIN_CASES
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("form", ["dict", "JSON text"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_credential_values(case, form):
    inp = case["input"] if form == "dict" else json.dumps(case["input"])
    e = case["expected"]
    if "error" in e:
        with pytest.raises(PublishError) as info:
            build_snapshot_payload(inp)
        assert info.value.kind == e["error"]
        assert info.value.message.startswith(f"{e['field']}: ")
    else:
        r = build_snapshot_payload(inp)
        body = json.loads(r.body)
        auth = dict(r.headers).get("Authorization")
        assert [body["external_resource_type"], body["external_resource_id"], auth] == [
            e["external_resource_type"],
            e["external_resource_id"],
            e["authorization"],
        ]
