#!/usr/bin/env python3
"""The wheel installed alone: a fresh venv in a temporary directory outside the repository.

    python3 host-examples/python/install_check.py DIST_DIR VECTORS_JSON

`pip install` of the one wheel in DIST_DIR (its declared dependencies come
from the registry), then, from the temporary directory, with nothing of the
repository on the path: every case of VECTORS_JSON through the installed
`tracker_publish` (reported by name; a case that did not run fails),
`python -m tracker_publish --help` and `preview` of the first case. Also
checks that neither artifact in DIST_DIR names a path of this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# Runs inside the fresh venv; its only input is the vectors file.
CHECK = r'''
import hashlib, json, sys
from pathlib import Path
import tracker_publish
from tracker_publish import PublishError, build_snapshot_payload, _component

where = Path(tracker_publish.__file__).resolve()
assert Path(sys.prefix).resolve() in where.parents, f"not the installed package: {where}"
assert _component.wasm_path() is None, "the component comes from the package (importlib.resources)"
cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
ran = []
for case in cases:
    inp, exp = case["input"], case["expected"]
    if "error" in exp:
        try:
            build_snapshot_payload(inp)
        except PublishError as e:
            assert e.kind == exp["error"], (case["name"], e.kind, e.message)
        else:
            raise AssertionError(f"{case['name']}: not refused")
    else:
        r = build_snapshot_payload(inp)
        assert r.endpoint == exp["endpoint"], case["name"]
        assert r.headers == [tuple(h) for h in exp["headers"]], case["name"]
        assert r.body == exp["body"].encode("utf-8"), case["name"]
        assert r.idempotency_key == exp["idempotency_key"], case["name"]
        c = build_snapshot_payload(inp, idempotency="content")
        assert c.idempotency_key == hashlib.sha256(r.body).hexdigest(), case["name"]
    ran.append(case["name"])
    print("ok", case["name"])
missing = [c["name"] for c in cases if c["name"] not in ran]
assert not missing and len(ran) == len(cases), missing
print(f"{len(ran)} vectors through the installed tracker_publish {tracker_publish.__file__}")
'''


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"install check: {' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def no_machine_paths(dist: Path, repo: Path) -> None:
    """Neither archive names this checkout or the home directory."""
    needles = [str(repo).encode(), str(Path.home()).encode()]
    needles = [n for n in needles if len(n) > 1]
    for art in dist.iterdir():
        if art.suffix == ".whl":
            with zipfile.ZipFile(art) as z:
                blobs = [(n, z.read(n)) for n in z.namelist()]
        elif art.name.endswith(".tar.gz"):
            with tarfile.open(art) as t:
                blobs = [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
        else:
            continue
        for name, data in blobs:
            for n in needles:
                if n in data or n in name.encode():
                    sys.exit(f"install check: {art.name}:{name} names a path of this machine ({n.decode()})")
        print(f"install check: {art.name}: {len(blobs)} files, no path of this machine")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dist, vectors = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    repo = Path(__file__).resolve().parents[2]
    wheels = sorted(dist.glob("*-py3-none-any.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        sys.exit(f"install check: expected one py3-none-any wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    if not vectors.is_file():
        sys.exit(f"install check: the shared vectors are missing: {vectors}")
    no_machine_paths(dist, repo)
    with tempfile.TemporaryDirectory(prefix="tracker-publish-install-") as tmp:
        tmp = Path(tmp)
        if repo in tmp.parents:
            sys.exit("install check: the temporary directory is inside the repository")
        venv = tmp / "venv"
        run([sys.executable, "-m", "venv", str(venv)])
        py = str(venv / "bin" / "python")
        run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheels[0])])
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TRACKER_PUBLISH_WASM", "VIRTUAL_ENV")}
        env["TRACKER_PUBLISH_CACHE_DIR"] = str(tmp / "cache")
        (tmp / "check.py").write_text(CHECK, encoding="utf-8")
        p = run([py, "check.py", str(vectors)], cwd=tmp, env=env)
        print(p.stdout, end="")
        p = run([py, "-m", "tracker_publish", "--help"], cwd=tmp, env=env)
        assert "preview" in p.stdout, p.stdout
        p = run([py, "-m", "tracker_publish", "preview", "--help"], cwd=tmp, env=env)
        assert "--jsonl" in p.stdout, p.stdout
        print("install check: python -m tracker_publish --help works")
        print(f"install check: {wheels[0].name} installed alone and used from {tmp} (now removed)")


if __name__ == "__main__":
    main()
