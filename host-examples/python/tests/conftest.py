"""Shared by the tests: where things are, the shared vectors, the CLI reference."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

#: The repository root.
REPO = Path(__file__).resolve().parents[3]
#: ../shared/conformance/vectors.json, relative to the repository root.
VECTORS_PATH = REPO.parent / "shared" / "conformance" / "vectors.json"
#: The shared vectors had this many cases when these tests were written; fewer means some went missing.
MIN_VECTORS = 34
# The tests' compiled-component cache lives under target/, not in the user's
# cache directory (test_cache.py points it elsewhere to test it).
os.environ.setdefault("TRACKER_PUBLISH_CACHE_DIR", str(REPO / "target" / "python-component-cache"))

#: The plain-Python reference of the CLI's request code, shared with tests/python_differential.rs.
REFERENCE_PATH = REPO / "tests" / "reference" / "cli_payload.py"


def load_vectors() -> list[dict]:
    """Every case; raises when the file is missing, malformed or short."""
    if not VECTORS_PATH.is_file():
        raise FileNotFoundError(f"the shared vectors are missing: {VECTORS_PATH}")
    cases = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    if not isinstance(cases, list):
        raise ValueError(f"{VECTORS_PATH}: expected a list of cases")
    if len(cases) < MIN_VECTORS:
        raise ValueError(f"{VECTORS_PATH}: {len(cases)} cases, expected at least {MIN_VECTORS}")
    return cases


def vectors_or_empty() -> list[dict]:
    """For parametrize at collection time: a missing file fails test_vectors_file, not collection."""
    try:
        return load_vectors()
    except (OSError, ValueError):
        return []


def secrets_of(inp: dict) -> list[str]:
    """The explicit token, every credential value and the URL's user-info, at least 5 characters."""
    out = []
    for v in [inp.get("auth_token"), *(inp.get("credentials") or {}).values()]:
        if isinstance(v, str):
            out += [v, v.strip()]
    url = inp.get("server_url") or ""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        info = url.split("://", 1)[1].split("@", 1)[0]
        out += [info, info.split(":", 1)[-1]]
    return [s for s in out if len(s.strip()) >= 5]


def load_reference():
    """tests/reference/cli_payload.py as a module."""
    spec = importlib.util.spec_from_file_location("cli_payload_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def base_input() -> dict:
    """A valid input to start from (the first vector's)."""
    return json.loads(json.dumps(load_vectors()[0]["input"]))
