"""`python -m tracker_publish preview`: the same output bytes and exit codes as the command's `preview`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, load_vectors

CLI = REPO / "dist" / "tracker-publish"
SAMPLE = REPO / "host-examples" / "sample" / "snapshot.json"


def ours(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker_publish", *args], input=stdin, capture_output=True, timeout=120)


def theirs(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing: run `make build`")
    return subprocess.run([str(CLI), *args], input=stdin, capture_output=True, timeout=120)


def test_help():
    p = ours("--help")
    assert p.returncode == 0 and b"preview" in p.stdout
    p = ours("preview", "--help")
    assert p.returncode == 0
    for flag in (b"--input", b"--jsonl", b"--show-secrets", b"--idempotency"):
        assert flag in p.stdout


@pytest.mark.parametrize("extra", [[], ["--show-secrets"], ["--idempotency", "content"]])
def test_preview_of_the_sample_is_the_commands(extra):
    a, b = ours("preview", "--input", str(SAMPLE), *extra), theirs("preview", "--input", str(SAMPLE), *extra)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout) == (0, b.stdout)


def test_preview_from_standard_input():
    data = SAMPLE.read_bytes()
    a, b = ours("preview", stdin=data), theirs("preview", stdin=data)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)


def test_jsonl_over_every_vector_is_the_commands():
    cases = load_vectors()
    lines = "".join(json.dumps(c["input"]) + "\n" for c in cases)
    data = lines.encode("utf-8") + b"not json\n\xff-invalid-utf8\n"
    a, b = ours("preview", "--jsonl", "--show-secrets", stdin=data), theirs("preview", "--jsonl", "--show-secrets", stdin=data)
    assert a.returncode == b.returncode == 0
    assert a.stdout.decode().splitlines() == b.stdout.decode().splitlines()
    assert len(a.stdout.splitlines()) == len(cases) + 2


@pytest.mark.parametrize(
    "data, field",
    [
        (b'{"provider": 1}', "provider"),
        (b"[]", "input"),
        (b"", "input"),
        (b"\xff", "input"),
        (json.dumps({**load_vectors()[0]["input"], "workspace": "  "}).encode(), "workspace"),
    ],
)
def test_bad_input_exits_2_naming_the_field(data, field):
    a, b = ours("preview", stdin=data), theirs("preview", stdin=data)
    assert a.returncode == b.returncode == 2
    assert a.stdout == b.stdout
    err = json.loads(a.stdout)["error"]
    assert field in err["message"]
    assert a.stderr.decode().startswith(f"tracker-publish: refused ({err['kind']}): ")


def test_a_missing_input_file_exits_2(tmp_path):
    p = ours("preview", "--input", str(tmp_path / "nope.json"))
    assert p.returncode == 2
    assert json.loads(p.stdout)["error"]["kind"] == "invalid-input"
    assert b"--input" in p.stdout


def test_usage_errors_exit_2():
    assert ours().returncode == 2
    assert ours("preview", "--idempotency", "v2").returncode == 2
