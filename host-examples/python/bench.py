#!/usr/bin/env python3
"""The Python package against the CLI's own way in Python, in one process.

    host-examples/python/.venv/bin/python host-examples/python/bench.py [--input FILE | --issues N] [--iterations K] [--json]
    host-examples/python/.venv/bin/python host-examples/python/bench.py --startup [--runs R] [--json]

Payload: `tracker_publish.build_snapshot_payload` on the input as a dict (as
spec-kitty holds it: `json.dumps` inside) and as JSON text, against
bench/cli_baseline.py's `build` (the CLI's dict, `json.dumps`, sha256), timed
round-robin so each ratio sees the same machine load; both sides are checked
to give the same bytes first. Where the time goes: `json.dumps` of the input
(dict only); the component call alone (`build-snapshot-payload-framed`, the
package's path; and `build-snapshot-payload-json-text`, typed, for
comparison), and inside it the input's UTF-8 encode and the result's decode
as wasmtime-py does them; the package's unframing (body bytes out). Routing
(framed, the package's path; and the typed export) and `normalize_provider`:
per call, the median of batches. `--startup`: whole fresh processes timing `import tracker_publish`
plus the first call, with the compiled component in the cache (and, for
comparison, with the cache off, and the `import wasmtime` part alone).
Prints medians with p25/p75; `--json` prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spread(xs: list[float]) -> dict:
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else xs * 3
    return {"median": statistics.median(xs), "p25": q[0], "p75": q[2], "min": xs[0], "max": xs[-1], "n": len(xs)}


def round_robin(fs: dict, iterations: int) -> dict:
    """Each function once per turn, `iterations` turns; seconds per call."""
    times: dict = {k: [] for k in fs}
    for _ in range(iterations):
        for k, f in fs.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: spread(v) for k, v in times.items()}


def per_call(f, calls: int = 2000, batches: int = 15) -> dict:
    """Seconds per call: the median of `batches` batches of `calls` calls."""
    f()
    out = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        out.append((time.perf_counter() - t) / calls)
    return spread(out)


def payload(args) -> dict:
    baseline = load("cli_baseline", REPO / "bench" / "cli_baseline.py")
    ref = load("cli_payload", REPO / "tests" / "reference" / "cli_payload.py")
    if args.input:
        text = Path(args.input).read_text(encoding="utf-8")
    else:
        gen = load("gen_snapshot", REPO / "bench" / "gen_snapshot.py")
        text = json.dumps(gen.snapshot(args.issues, args.seed), ensure_ascii=False)
    inp = json.loads(text)

    import tracker_publish
    from tracker_publish._component import runtime

    rt = runtime()
    req = tracker_publish.build_snapshot_payload(inp)
    endpoint, key, body = baseline.build(inp)
    assert (req.endpoint, req.idempotency_key, req.body) == (endpoint, key, body), "component and plain Python differ"
    assert tracker_publish.build_snapshot_payload(text).body == body

    class Options:  # wasmtime-py lowers a record from an object's attributes
        idempotency = "v1"

    opts = Options()
    dumped = json.dumps(inp, ensure_ascii=False)
    framed_request = dumped  # scheme v1: the input alone
    frame = rt.call("build-snapshot-payload-framed", framed_request)
    frame_utf8 = frame.encode("utf-8")
    it = args.iterations
    r = round_robin(
        {
            "python_ms": lambda: baseline.build(inp),
            "package_dict_ms": lambda: tracker_publish.build_snapshot_payload(inp),
            "package_text_ms": lambda: tracker_publish.build_snapshot_payload(text),
            "json_dumps_ms": lambda: json.dumps(inp, ensure_ascii=False),
            "call_ms": lambda: rt.call("build-snapshot-payload-framed", framed_request),
            "call_typed_text_ms": lambda: rt.call("build-snapshot-payload-json-text", dumped, opts),
            # Inside call_ms, as wasmtime-py does them: the input's UTF-8
            # encode before the call, the result's decode after it.
            "lower_encode_ms": lambda: framed_request.encode("utf-8"),
            "lift_decode_ms": lambda: bytearray(frame_utf8).decode("utf-8"),
            "unframe_ms": lambda: tracker_publish._request(frame),
        },
        it,
    )
    out = {k: {s: v * 1e3 if isinstance(v, float) else v for s, v in d.items()} for k, d in r.items()}
    # 0.1.0's list<u8> entry point through the same public API, where it still fits (one value per byte).
    if len(body) <= 200_000:
        out["call_list_u8_ms"] = {s: v * 1e3 if isinstance(v, float) else v for s, v in round_robin({"x": lambda: rt.call("build-snapshot-payload-json", dumped, opts)}, max(3, it // 10))["x"].items()}
    creds = inp["credentials"]
    out["routing_us"] = {s: v * 1e6 if isinstance(v, float) else v for s, v in per_call(lambda: tracker_publish.resolve_resource_routing("jira", creds)).items()}
    pairs = list(creds.items())
    out["routing_typed_us"] = {s: v * 1e6 if isinstance(v, float) else v for s, v in per_call(lambda: rt.call("resolve-resource-routing", "jira", pairs), 500).items()}
    out["routing_python_us"] = {s: v * 1e6 if isinstance(v, float) else v for s, v in per_call(lambda: ref._resolve_resource_routing("jira", creds), 20000).items()}
    out["normalize_us"] = {s: v * 1e6 if isinstance(v, float) else v for s, v in per_call(lambda: tracker_publish.normalize_provider(" Azure ")).items()}
    out["issues"] = len(inp["issues"])
    out["body_bytes"] = len(body)
    out["input_bytes"] = len(text.encode("utf-8"))
    out["iterations"] = it
    out["wasmtime_py"] = tracker_publish._component.wasmtime_version()
    out["ratios"] = {
        "python_over_text": out["python_ms"]["median"] / out["package_text_ms"]["median"],
        "python_over_dict": out["python_ms"]["median"] / out["package_dict_ms"]["median"],
    }
    return out


FIRST = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "{pre}"
    "t1 = time.perf_counter()\n"
    "import tracker_publish\n"
    "tracker_publish.resolve_resource_routing('jira', {{'project_key': 'A'}})\n"
    "t2 = time.perf_counter()\n"
    "from tracker_publish._component import runtime\n"
    "print((t2 - t1) * 1e3, (t1 - t0) * 1e3, runtime().from_cache)\n"
)


def startup(args) -> dict:
    """Fresh processes: import tracker_publish + first call, cached and not; and `import wasmtime.component` alone."""
    env = dict(os.environ)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, pre, cache in [
            ("import_and_first_call_cached_ms", "", d),
            ("import_and_first_call_uncached_ms", "", "off"),
            ("after_import_wasmtime_cached_ms", "import wasmtime.component\n", d),
            ("import_wasmtime_alone_ms", "import wasmtime.component\n", d),
        ]:
            env["TRACKER_PUBLISH_CACHE_DIR"] = cache
            code = FIRST.format(pre=pre)
            subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)  # fills the cache, warms the page cache
            xs = []
            for _ in range(args.runs if cache != "off" else max(3, args.runs // 4)):
                p = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
                after, before, from_cache = p.stdout.split()
                assert from_cache == ("True" if cache != "off" else "False"), p.stdout
                xs.append(float(before) if name == "import_wasmtime_alone_ms" else float(after))
            out[name] = spread(xs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", help="a snapshot input (JSON), e.g. from bench/gen_snapshot.py")
    ap.add_argument("--issues", type=int, default=1000, help="without --input: generate this many issues")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--startup", action="store_true", help="measure start-up in fresh processes instead")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = startup(args) if args.startup else payload(args)
    if args.json:
        print(json.dumps(out))
        return
    for k, v in out.items():
        if isinstance(v, dict) and "median" in v:
            print(f"  {k:<36} {v['median']:12.4f}  ({v['p25']:.4f}-{v['p75']:.4f})")
        else:
            print(f"  {k:<36} {v}")


if __name__ == "__main__":
    main()
