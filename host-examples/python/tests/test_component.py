"""The component in wasmtime-py: public API only, loaded once, reused, thread-safe; both body entry points agree."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import wasmtime
from conftest import REPO, load_vectors

import tracker_publish
from tracker_publish import _component
from tracker_publish._component import EXPORTS, FRAMED_INTERFACE, INTERFACE, runtime

PKG = Path(tracker_publish.__file__).parent
ROOT = Path(__file__).resolve().parents[1]


def test_loaded_once_and_reused():
    tracker_publish.normalize_provider("jira")
    rt = runtime()
    inst = rt._instance
    for case in load_vectors()[:5]:
        try:
            tracker_publish.build_snapshot_payload(case["input"])
        except tracker_publish.PublishError:
            pass
    tracker_publish.resolve_resource_routing("jira", {"project_key": "A"})
    assert runtime() is rt and rt._instance is inst
    assert set(inst.funcs) == {name for names in EXPORTS.values() for name in names}


def test_zero_imports_and_the_interface():
    rt = runtime()
    ty = rt.component.type
    assert ty.imports(rt.engine) == {}
    exports = ty.exports(rt.engine)
    assert INTERFACE in exports and FRAMED_INTERFACE in exports


def test_only_the_public_wasmtime_api():
    """No `wasmtime._ffi`, no ctypes, no private wasmtime module or attribute anywhere in the package."""
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            for name in names:
                assert name.split(".")[0] != "ctypes", f"{path.name}: imports {name}"
                if name.startswith("wasmtime"):
                    assert not any(part.startswith("_") for part in name.split(".")), f"{path.name}: imports {name}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wasmtime":
                dunder = node.attr.startswith("__") and node.attr.endswith("__")  # module attributes such as __file__
                assert dunder or not node.attr.startswith("_"), f"{path.name}: wasmtime.{node.attr}"


class _Options:
    # wasmtime-py lowers a record from an object's attributes.
    def __init__(self, idempotency: str) -> None:
        self.idempotency = idempotency


def test_text_and_bytes_entry_points_agree_for_every_vector():
    """The new `build-snapshot-payload-json-text` against 0.1.0's `build-snapshot-payload-json`, for every vector."""
    rt = runtime()
    for case in load_vectors():
        text = json.dumps(case["input"], ensure_ascii=False)
        for scheme in ("v1", "content"):
            opts = _Options(scheme)
            a = rt.call("build-snapshot-payload-json-text", text, opts)
            b = rt.call("build-snapshot-payload-json", text, opts)
            assert a.tag == b.tag, case["name"]
            if a.tag == "ok":
                pa, pb = a.payload, b.payload
                assert pa.body.encode("utf-8") == pb.body, case["name"]
                assert (pa.endpoint, pa.headers, getattr(pa, "idempotency-key")) == (pb.endpoint, pb.headers, getattr(pb, "idempotency-key"))
            else:
                assert (a.payload.kind, a.payload.message) == (b.payload.kind, b.payload.message)


def test_framed_and_typed_payload_agree_for_every_vector():
    """`framed`'s `build-snapshot-payload-framed` (the package's path) against `build-snapshot-payload-json-text`, field by field."""
    rt = runtime()
    ran = 0
    for case in load_vectors():
        text = json.dumps(case["input"], ensure_ascii=False)
        for scheme in ("v1", "content"):
            typed = rt.call("build-snapshot-payload-json-text", text, _Options(scheme))
            frame = rt.call("build-snapshot-payload-framed", f"{scheme}\n{text}")
            if typed.tag == "ok":
                p = typed.payload
                n = len(p.headers)
                want = ["ok", p.endpoint, getattr(p, "idempotency-key"), str(n)] + [x for kv in p.headers for x in kv] + [p.body]
                assert frame.split("\n", 4 + 2 * n) == want, case["name"]
                assert "\n" not in "".join(want[:-1]), case["name"]
            else:
                assert frame == f"error\n{typed.payload.kind}\n{typed.payload.message}", case["name"]
            ran += 1
    assert ran == 2 * len(load_vectors())


def test_framed_and_typed_routing_agree():
    """`resolve-resource-routing-framed` against the typed `resolve-resource-routing`, with line feeds, quotes and non-ASCII in the credentials."""
    rt = runtime()
    values = ["ACME", " A\nB ", "\n", "", " ", "é漢🙂", 'q"\\', "\u2028x", "a\u0000b"]
    keys = ["project_key", "team_id", "2", "project key", "\n", "é"]
    for provider in ("jira", "linear", "Jira", "", "x\ny"):
        for i, value in enumerate(values):
            creds = {keys[(i + j) % len(keys)]: values[(i * j) % len(values)] for j in range(3)}
            creds[keys[i % 2]] = value
            typed = rt.call("resolve-resource-routing", provider, list(creds.items()))
            frame = rt.call("resolve-resource-routing-framed", json.dumps(creds, ensure_ascii=i % 2 == 0) + "\n" + provider)
            want = "none" if typed is None else f"some\n{getattr(typed, 'resource-type')}\n{getattr(typed, 'resource-id')}"
            assert frame == want, (provider, creds)
    # Not an object of strings: refused as the JSON form refuses it, never the value.
    for bad, message in [('{"project_key": 1}', "credentials.project_key: expected a string, found a number"), ("[]", "credentials: expected an object of strings, found an array"), ('{"a": "s3cret"} x', None)]:
        kind, _, text = rt.call("resolve-resource-routing-framed", bad + "\njira").partition("\n")
        assert kind == "error" and text.startswith("invalid-input\n") and "s3cret" not in text, bad
        if message:
            assert text == "invalid-input\n" + message


def test_the_lean_component_is_refused_clearly():
    """The package needs the full world's `framed` interface: the lean component is named, not a trap."""
    p = _run(
        "import tracker_publish as t\n"
        "try:\n t.normalize_provider('x')\n"
        "except t.ComponentFailure as e:\n print('failure:', e)\n",
        TRACKER_PUBLISH_WASM=str(REPO / "dist" / "tracker_publish.wasm"),
        TRACKER_PUBLISH_CACHE_DIR="off",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"failure: the component does not export {FRAMED_INTERFACE} (not tracker_publish_full.wasm, or an older one?)"


def test_json_text_input_is_used_as_written():
    case = next(c for c in load_vectors() if "error" not in c["expected"])
    text = json.dumps(case["input"], ensure_ascii=False)
    for form in (text, text.encode("utf-8"), bytearray(text.encode("utf-8"))):
        r = tracker_publish.build_snapshot_payload(form)
        assert r.body == case["expected"]["body"].encode("utf-8")
    e = _refusal(b"\xff{}")
    assert e.kind == "invalid-input" and "UTF-8" in e.message
    e = _refusal('{"provider": "a\ud800"}')
    assert e.kind == "invalid-input"


def _refusal(inp):
    try:
        tracker_publish.build_snapshot_payload(inp)
    except tracker_publish.PublishError as e:
        return e
    raise AssertionError("not refused")


def test_a_big_body_crosses_intact():
    inp = json.loads(json.dumps(load_vectors()[0]["input"]))
    inp["issues"] = [
        {
            "ref": {"system": "jira", "workspace": "w", "id": str(n), "key": None, "url": None},
            "title": "é漢🙂\u0000\u001f\"\\" * 50,
            "body": "x" * 1000,
            "status": "todo",
            "issue_type": "bug",
            "priority": n % 5,
            "assignees": [],
            "labels": ["ü"],
            "updated_at": None,
        }
        for n in range(300)
    ]
    r = tracker_publish.build_snapshot_payload(inp)
    assert len(r.body) > 300_000
    assert json.loads(r.body)["issues"][299]["title"] == inp["issues"][299]["title"]
    assert r.body == json.dumps(json.loads(r.body), ensure_ascii=False, separators=(",", ":")).encode()


def test_thread_safe():
    cases = [c for c in load_vectors() if "error" not in c["expected"]]
    errors: list[str] = []

    def work(k: int) -> None:
        for n in range(40):
            c = cases[(k + n) % len(cases)]
            r = tracker_publish.build_snapshot_payload(c["input"])
            if r.body != c["expected"]["body"].encode() or r.idempotency_key != c["expected"]["idempotency_key"]:
                errors.append(c["name"])
            if tracker_publish.resolve_resource_routing("jira", {"project_key": f" K{k} "}) != ("jira_project", f"K{k}"):
                errors.append(f"routing {k}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_wasm_path_default_and_packaged_copy():
    if not os.environ.get(_component.WASM_ENV):
        assert _component.wasm_path() == REPO / "dist" / "tracker_publish_full.wasm"
    packaged = PKG / "tracker_publish_full.wasm"
    assert packaged.is_file(), "make python copies the component into the package"
    assert packaged.read_bytes() == (REPO / "dist" / "tracker_publish_full.wasm").read_bytes()


def test_wasm_path_from_the_environment():
    packaged = PKG / "tracker_publish_full.wasm"
    p = _run("import tracker_publish as t; print(t.wasm_path()); print(t.normalize_provider(' AZURE '))", TRACKER_PUBLISH_WASM=str(packaged))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == [str(packaged), "azure_devops"]


def test_a_missing_component_is_a_clear_failure():
    p = _run(
        "import tracker_publish as t\n"
        "try:\n t.normalize_provider('x')\n"
        "except t.ComponentFailure as e:\n print('failure:', e)\n",
        TRACKER_PUBLISH_WASM="/nonexistent/tracker_publish.wasm",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("failure: cannot load the tracker-publish component from /nonexistent/tracker_publish.wasm")
    assert "TRACKER_PUBLISH_WASM" in p.stdout


def _bounds() -> tuple[str, str]:
    deps = re.search(r'"wasmtime>=([0-9.]+),<([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert deps, "pyproject.toml declares wasmtime>=N,<M"
    return deps.group(1), deps.group(2)


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def test_wasmtime_range_and_its_two_test_pins():
    """pyproject declares a range; requirements.txt pins inside it, requirements-lowest.txt its lowest; the running one is inside."""
    low, high = _bounds()
    newest = re.search(r"^wasmtime==([0-9.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    lowest = re.search(r"^wasmtime==([0-9.]+)$", (ROOT / "requirements-lowest.txt").read_text(), re.M).group(1)
    assert lowest == low
    assert _key(low) <= _key(newest) < _key(high)
    running = _component.wasmtime_version()
    assert _key(low) <= _key(running) < _key(high), running
    assert running in (lowest, newest), f"the tests run on a pinned end of the range, not {running}"
    assert wasmtime.component.Component is _component.Component
