"""The new entry point against the released CLI itself: spec-kitty-cli 2.1.3's `sync_publish`, run by its own Python.

tests/released_cli_driver.py runs in target/cli-venv (`make cli-venv`): the
CLI's `TrackerProjectConfig.from_dict` and `TrackerService.sync_publish`, its
httpx posting to a loopback server. The same generated inputs (the seeded
generator of test_differential.py) go through `build_snapshot_payload`
(`build-snapshot-payload-json-text`); wherever we build a request, the CLI
must have sent the same body bytes, Idempotency-Key, Content-Type and
Authorization. Inputs we refuse are where the CLI fails its user
(publish-contract.md section 9) and are counted, not compared.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO
from test_differential import Gen

from tracker_publish import PublishError, build_snapshot_payload

CLI_PYTHON = Path(os.environ.get("TRACKER_PUBLISH_CLI_PYTHON", REPO / "target" / "cli-venv" / "bin" / "python"))
DRIVER = Path(__file__).with_name("released_cli_driver.py")
CASES = int(os.environ.get("TRACKER_PUBLISH_RELEASED_CASES", "300"))
WIRE = ("content-type", "idempotency-key", "authorization")


def test_against_the_released_cli():
    if not CLI_PYTHON.exists():
        pytest.fail(f"{CLI_PYTHON} is missing: run `make cli-venv` (make test does), or set TRACKER_PUBLISH_CLI_PYTHON")
    g = Gen(20261203)
    inputs = []
    ours = []
    refused = 0
    while len(inputs) < CASES:
        inp = g.valid()
        try:
            r = build_snapshot_payload(inp)
        except PublishError:
            refused += 1
            continue
        inputs.append(inp)
        ours.append(r)
    text = "".join(json.dumps(i) + "\n" for i in inputs)
    p = subprocess.run([str(CLI_PYTHON), str(DRIVER)], input=text, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    answers = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(answers) == len(inputs), "one answer per input"
    for n, (inp, r, got) in enumerate(zip(inputs, ours, answers)):
        where = f"case {n}: {json.dumps(inp, ensure_ascii=True)[:400]}"
        assert "error" not in got, f"the CLI failed ({got.get('error')}) where we built a request; {where}"
        assert got["body"].encode("utf-8") == r.body, where
        assert got["idempotency_key"] == r.idempotency_key, where
        assert r.endpoint.endswith(got["path"]) and got["path"] == got["endpoint_path"], where
        theirs = {k.lower(): v for k, v in got["headers"]}
        for name in WIRE:
            assert theirs.get(name) == dict((k.lower(), v) for k, v in r.headers).get(name), f"{name}; {where}"
    assert refused < CASES, "most generated inputs are requests"
