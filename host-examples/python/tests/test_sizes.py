"""Every size within the documented limits: 10,000 and 100,000 issues, and a body over 64 MiB, byte for byte with the command's `preview`.

wasmtime's C API charges each call's lifted data against a per-call budget
(hostcall fuel, 128 MiB by default) at one value per element: a `list<u8>`
body exhausted it at about 2.8 MB (5,000 issues). Through
`build-snapshot-payload-json-text` the body is one `string`, charged once per
byte, so these sizes go through.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest
from conftest import REPO

from tracker_publish import PublishError, build_snapshot_payload

CLI = REPO / "dist" / "tracker-publish"
MIB = 1 << 20


def _gen():
    spec = importlib.util.spec_from_file_location("gen_snapshot", REPO / "bench" / "gen_snapshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preview(tmp_path, text: str) -> dict:
    """`tracker-publish preview --show-secrets` of the same input text."""
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing: run `make build`")
    path = tmp_path / "input.json"
    path.write_text(text, encoding="utf-8")
    p = subprocess.run([str(CLI), "preview", "--show-secrets", "--input", str(path)], capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return json.loads(p.stdout)


def same_as_the_command(tmp_path, inp: dict) -> int:
    text = json.dumps(inp, ensure_ascii=False)
    want = preview(tmp_path, text)
    for form in (inp, text):
        r = build_snapshot_payload(form)
        assert r.endpoint == want["endpoint"]
        assert [list(h) for h in r.headers] == want["headers"]
        assert r.idempotency_key == want["idempotency_key"]
        assert r.body == want["body"].encode("utf-8")
    return len(r.body)


def test_10000_issues(tmp_path):
    assert same_as_the_command(tmp_path, _gen().snapshot(10_000, 2026)) > 5_000_000


def test_100000_issues_with_a_body_over_64_mib(tmp_path):
    inp = _gen().snapshot(100_000, 2026)
    # Longer bodies push the 100,000-issue body (62 MiB as generated) past 64 MiB.
    for i, issue in enumerate(inp["issues"]):
        if i % 2 == 0:
            issue["body"] = (issue["body"] or "") + " padding ü 🙂" * 8
    assert same_as_the_command(tmp_path, inp) > 64 * MIB


def test_a_body_over_128_mib_goes_through_or_is_too_large_naming_the_limit():
    """Past wasmtime's 128 MiB per-call transfer limit (wasmtime-py 50; 39 has none), not settable through wasmtime-py: the body, or a clear refusal, then business as usual."""
    inp = _gen().snapshot(36, 2026)
    for issue in inp["issues"]:
        issue["body"] = "x" * (3_900_000)
    text = json.dumps(inp)
    try:
        r = build_snapshot_payload(text)
    except PublishError as e:
        assert e.kind == "too-large"
        assert e.message.startswith("body: over 128 MiB") and "hostcall fuel" in e.message
    else:
        assert len(r.body) > 128 * MIB
        assert r.body.endswith(b"}") and json.loads(r.body)["issues"][35]["body"] == "x" * 3_900_000
        del r
    del text, inp
    small = _gen().snapshot(3, 2026)
    assert build_snapshot_payload(small).body.startswith(b'{"provider":')
