"""The compiled-component cache: written once, used by later processes, keyed by wasmtime-py and the component, never trusted when damaged."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tracker_publish import _component

PROBE = (
    "import tracker_publish as t\n"
    "from tracker_publish._component import runtime\n"
    "r = t.build_snapshot_payload({'server_url': 'https://example.com', 'auth_token': None, 'provider': ' Jira ', 'workspace': 'w',"
    " 'doctrine_mode': None, 'doctrine_field_owners': {}, 'credentials': {'project_key': 'A'}, 'project_uuid': None,"
    " 'project_slug': None, 'issues': [], 'mappings': [], 'checkpoint': None})\n"
    "print(runtime().from_cache, r.idempotency_key)\n"
)


def probe(cache: str | Path) -> tuple[str, str]:
    p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env={**os.environ, _component.CACHE_ENV: str(cache)})
    assert p.returncode == 0, p.stderr
    from_cache, key = p.stdout.split()
    return from_cache, key


def entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.cwasm"))


def test_written_once_then_used(tmp_path):
    d = tmp_path / "cache"
    first = probe(d)
    assert first[0] == "False"
    [entry] = entries(d)
    wasm = _component._wasm_bytes()[0]
    assert _component.wasmtime_version() in entry.name
    assert hashlib.sha256(wasm).hexdigest()[:32] in entry.name
    if hasattr(os, "getuid"):
        assert not (entry.stat().st_mode & 0o022) and not (d.stat().st_mode & 0o077)
    second = probe(d)
    assert second == ("True", first[1])
    assert entries(d) == [entry], "no second entry, no temporary file left"


def test_a_damaged_entry_is_recompiled_and_replaced(tmp_path):
    d = tmp_path / "cache"
    good = probe(d)[1]
    [entry] = entries(d)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert probe(d) == ("False", good)
    assert probe(d) == ("True", good)
    entry.write_bytes(b"")
    assert probe(d) == ("False", good)


def test_an_entry_others_can_write_is_not_used(tmp_path):
    if not hasattr(os, "getuid"):
        return
    d = tmp_path / "cache"
    good = probe(d)[1]
    [entry] = entries(d)
    entry.chmod(0o666)
    assert probe(d) == ("False", good)


def test_an_unwritable_cache_falls_back_to_compiling(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert probe(blocker / "cache")[0] == "False"
    assert probe(blocker / "cache")[0] == "False"


def test_off_disables_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(_component.CACHE_ENV, "off")
    assert _component.cache_dir() is None
    assert probe("off")[0] == "False"


def test_user_cache_dir_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv(_component.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert _component.cache_dir() == tmp_path / "tracker-publish"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
        assert _component.cache_dir() == Path.home() / ".cache" / "tracker-publish"
