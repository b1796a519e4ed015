"""The component in wasmtime-py: loaded once, reused, thread-safe; the fast result path equals wasmtime-py's own."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from conftest import REPO, load_vectors

import tracker_publish
from tracker_publish import _component
from tracker_publish._component import INTERFACE, runtime


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


def test_zero_imports_and_the_interface():
    rt = runtime()
    ty = rt.component.type
    assert ty.imports(rt.engine) == {}
    assert INTERFACE in ty.exports(rt.engine)


def test_fast_results_equal_wasmtime_py_generic_conversion():
    """Our lifting of results against wasmtime.component.Func.__call__'s, for every vector."""
    rt = runtime()
    with rt.lock:
        inst = rt._instance
        store, raw = inst.store, inst.raw
        iface = raw.get_export_index(store, INTERFACE)
        func = raw.get_func(store, raw.get_export_index(store, "build-snapshot-payload-json", iface))
        route = raw.get_func(store, raw.get_export_index(store, "resolve-resource-routing", iface))
        for case in load_vectors():
            text = json.dumps(case["input"], ensure_ascii=False)
            for scheme in ("v1", "content"):
                opts = tracker_publish._OPTIONS[scheme]
                generic = func(store, text, opts)
                ok, fast = inst.build_snapshot_payload_json.call(store, text, opts)
                assert generic.tag == ("ok" if ok else "err")
                p = generic.payload
                if ok:
                    assert fast == (p.endpoint, p.headers, p.body, getattr(p, "idempotency-key"))
                else:
                    assert fast == (p.kind, p.message)
            creds = list(case["input"]["credentials"].items())
            for provider in ("jira", "linear", case["input"]["provider"]):
                g = route(store, provider, creds)
                f = inst.resolve_resource_routing.call(store, provider, creds)
                assert f == (None if g is None else (getattr(g, "resource-type"), getattr(g, "resource-id")))


def test_a_big_body_crosses_intact():
    inp = load_vectors()[0]["input"]
    inp = json.loads(json.dumps(inp))
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

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_wasm_path_default_and_packaged_copy():
    assert _component.wasm_path() == REPO / "dist" / "tracker_publish.wasm" or os.environ.get(_component.WASM_ENV)
    packaged = Path(_component.__file__).parent / "tracker_publish.wasm"
    assert packaged.is_file(), "make python copies the component into the package"
    assert packaged.read_bytes() == (REPO / "dist" / "tracker_publish.wasm").read_bytes()


def test_wasm_path_from_the_environment():
    packaged = Path(_component.__file__).parent / "tracker_publish.wasm"
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


def test_wasmtime_is_the_pinned_release():
    """The fast result path reads the C API layout of the pinned release."""
    version = importlib.metadata.version("wasmtime")
    root = Path(__file__).parents[1]
    assert f"wasmtime=={version}\n" in (root / "requirements.txt").read_text()
    assert f'"wasmtime=={version}"' in (root / "pyproject.toml").read_text()
