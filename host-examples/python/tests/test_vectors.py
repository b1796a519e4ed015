"""Every case of ../shared/conformance/vectors.json through the package, one test per case."""

from __future__ import annotations

import hashlib

import pytest
from conftest import MIN_VECTORS, VECTORS_PATH, load_vectors, secrets_of, vectors_or_empty

from tracker_publish import ERROR_KINDS, PublishError, PublishRequest, build_snapshot_payload

CASES = vectors_or_empty()


def test_vectors_file():
    """Fails when the file is missing, malformed, short, or repeats a name."""
    cases = load_vectors()
    assert len(cases) >= MIN_VECTORS, f"{VECTORS_PATH}: {len(cases)} cases"
    assert len({c["name"] for c in cases}) == len(cases), "case names are unique"
    assert len(CASES) == len(cases), "every case is collected"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case):
    inp, expected = case["input"], case["expected"]
    if "error" in expected:
        assert expected["error"] in ERROR_KINDS
        with pytest.raises(PublishError) as info:
            build_snapshot_payload(inp)
        e = info.value
        assert e.kind == expected["error"], e.message
        assert e.message and str(e) == e.message
        for secret in secrets_of(inp):
            assert secret not in e.message, "the message holds no secret"
        return

    r = build_snapshot_payload(inp)
    assert isinstance(r, PublishRequest)
    assert r.endpoint == expected["endpoint"]
    assert r.headers == [tuple(h) for h in expected["headers"]]
    assert isinstance(r.body, bytes)
    assert r.body == expected["body"].encode("utf-8")
    assert r.idempotency_key == expected["idempotency_key"]
    assert ("Idempotency-Key", r.idempotency_key) in r.headers

    # The content scheme: the same body, keyed by its SHA-256.
    c = build_snapshot_payload(inp, idempotency="content")
    sha = hashlib.sha256(c.body).hexdigest()
    assert c.body == r.body and c.endpoint == r.endpoint
    assert c.idempotency_key == sha
    assert c.headers[1] == ("Idempotency-Key", sha)
