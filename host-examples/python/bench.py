#!/usr/bin/env python3
"""Per-call cost of the component through wasmtime-py, next to plain Python.

    host-examples/python/.venv/bin/python host-examples/python/bench.py [--issues 1000] [--seed 1]

Inputs come from bench/gen_snapshot.py (seeded). The plain-Python side is
bench/cli_baseline.py's `build` (the CLI's dict + `json.dumps` + sha256) and
tests/reference/cli_payload.py's `_resolve_resource_routing` and
`normalize_provider`. Prints medians in microseconds or milliseconds, and
checks first that both sides give the same body and key.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_s(f, iterations: int) -> float:
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--issues", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--generic", action="store_true", help="also time wasmtime-py's generic result conversion (slow)")
    args = ap.parse_args()

    gen = load("gen_snapshot", REPO / "bench" / "gen_snapshot.py")
    baseline = load("cli_baseline", REPO / "bench" / "cli_baseline.py")
    ref = load("cli_payload", REPO / "tests" / "reference" / "cli_payload.py")

    t = time.perf_counter()
    import tracker_publish
    from tracker_publish._component import runtime

    rt = runtime()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    tracker_publish.normalize_provider("jira")
    inst_s = time.perf_counter() - t

    inp = gen.snapshot(args.issues, args.seed)
    req = tracker_publish.build_snapshot_payload(inp)
    endpoint, key, body = baseline.build(inp)
    assert (req.endpoint, req.idempotency_key, req.body) == (endpoint, key, body), "component and plain Python differ"

    creds = inp["credentials"]
    n = args.iterations
    rows = []

    def row(what: str, seconds: float, unit: str) -> None:
        rows.append((what, seconds * (1e6 if unit == "µs" else 1e3), unit))

    row("load: engine + compile the component (once per process)", load_s, "ms")
    row("first call: instantiate (once per process)", inst_s, "ms")
    row("resolve_resource_routing, component", median_s(lambda: tracker_publish.resolve_resource_routing("jira", creds), n * 100), "µs")
    row("_resolve_resource_routing, plain Python", median_s(lambda: ref._resolve_resource_routing("jira", creds), n * 100), "µs")
    row("normalize_provider, component", median_s(lambda: tracker_publish.normalize_provider(" Azure "), n * 100), "µs")
    row("normalize_provider, plain Python", median_s(lambda: ref.normalize_provider(" Azure "), n * 100), "µs")
    label = f"{args.issues}-issue payload"
    row(f"build_snapshot_payload, {label}, component", median_s(lambda: tracker_publish.build_snapshot_payload(inp), n), "ms")
    text = json.dumps(inp, ensure_ascii=False)
    row("  of which json.dumps of the input", median_s(lambda: json.dumps(inp, ensure_ascii=False), n), "ms")
    opts = tracker_publish._OPTIONS["v1"]
    row("  of which the component call (text in, request out)", median_s(lambda: rt.call("build_snapshot_payload_json", text, opts), n), "ms")
    row(f"the CLI's way, {label}, plain Python (dict, json.dumps, sha256)", median_s(lambda: baseline.build(inp), n), "ms")
    if args.generic:
        with rt.lock:
            inst = rt._instance
            raw, store = inst.raw, inst.store
            iface = raw.get_export_index(store, "spec-kitty:tracker/publish@0.1.0")
            f = raw.get_func(store, raw.get_export_index(store, "build-snapshot-payload-json", iface))
            row("  the component call with wasmtime-py's generic result conversion", median_s(lambda: f(store, text, opts), 3), "ms")

    print(f"{args.issues} issues, body {len(body):,} bytes, medians")
    for what, v, unit in rows:
        print(f"  {what:<72} {v:10.2f} {unit}")


if __name__ == "__main__":
    main()
