#!/usr/bin/env python3
"""The whole job a user runs, side by side: `tracker-publish publish` and the
released CLI's `spec-kitty tracker sync publish` (spec-kitty-cli 2.1.3 from
the interoperability venv) on the same N-issue spec-kitty project, posting
to the same loopback sink, each as a whole process.

    python3 bench/publish_vs_cli.py [--issues 10000] [--runs 10] [--json]

The project (config, credentials, SQLite store with the CLI's schema) is
generated with the issues of gen_snapshot.py (same seed, same bytes). Every
run's body is checked: both tools must post the same bytes.
"""

import argparse
import hashlib
import http.server
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import gen_snapshot  # noqa: E402

SCHEMA = """
CREATE TABLE tracker_issues (identity TEXT PRIMARY KEY, system TEXT NOT NULL,
  workspace TEXT NOT NULL, issue_id TEXT NOT NULL, payload TEXT NOT NULL, updated_at TEXT);
CREATE TABLE tracker_checkpoints (checkpoint_key TEXT PRIMARY KEY, cursor TEXT, updated_since TEXT);
CREATE TABLE tracker_mappings (wp_id TEXT NOT NULL, system TEXT NOT NULL, workspace TEXT NOT NULL,
  external_id TEXT NOT NULL, external_key TEXT, external_url TEXT, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, PRIMARY KEY (wp_id, system), UNIQUE (system, workspace, external_id));
"""


def make_project(dir: Path, n: int, seed: int = 1):
    """A spec-kitty project of n Jira issues under dir/project, $HOME at dir/home."""
    (dir / "project/.kittify").mkdir(parents=True)
    (dir / "project/.kittify/config.yaml").write_text(
        "project:\n  uuid: 550e8400-e29b-41d4-a716-446655440000\n  slug: bench\n"
        "tracker:\n  provider: jira\n  workspace: acme.atlassian.net\n"
        "  doctrine:\n    mode: external_authoritative\n    field_owners:\n      status: external\n")
    spec = dir / "home/.spec-kitty"
    (spec / "trackers").mkdir(parents=True)
    (spec / "credentials").write_text(
        '[tracker.providers.jira]\nbase_url = "https://acme.atlassian.net"\n'
        'email = "ana@example.com"\nproject_key = "ACME"\naccess_token = "bench-token"\n')
    identity = "jira|acme.atlassian.net|https://acme.atlassian.net|ana@example.com|no-team"
    db = spec / "trackers" / (hashlib.sha256(identity.encode()).hexdigest()[:16] + ".db")
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    conn.executescript(SCHEMA)
    for i in range(n):
        issue = gen_snapshot.issue(rng, i)
        r = issue["ref"]
        conn.execute("INSERT INTO tracker_issues VALUES (?, 'jira', ?, ?, ?, NULL)",
                     (f"jira:{r['workspace']}:{r['id']}", r["workspace"], r["id"],
                      json.dumps(issue, separators=(",", ":"))))
    for i in range(min(n, 50)):
        conn.execute("INSERT INTO tracker_mappings VALUES (?, 'jira', 'acme.atlassian.net', ?, ?, NULL,"
                     " '2026-03-10T00:00:00+00:00', '2026-03-10T00:00:00+00:00')",
                     (f"WP{i + 1:02d}", str(10000 + i), f"ACME-{i + 1}"))
    conn.execute("INSERT INTO tracker_checkpoints VALUES ('jira:acme.atlassian.net', 'c-1', '2026-03-12T09:00:00Z')")
    conn.commit()
    conn.close()
    return dir / "project", dir / "home"


class Sink(http.server.BaseHTTPRequestHandler):
    """Reads the body, keeps it, answers 201: as little work as a server can
    do, so the timings are the tools' (bodies are compared afterwards)."""
    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        Sink.bodies.append(body)
        out = b'{"accepted":true}'
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


def spread(xs):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]
    return {"median": statistics.median(xs), "p25": q(0.25), "p75": q(0.75), "min": xs[0], "max": xs[-1]}


def time_runs(cmd, cwd, env, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
        if p.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed: {p.stderr.decode()[-500:]}")
    return times


def measure(issues=10000, runs=10):
    cli = ROOT / "target/cli-venv/bin/spec-kitty"
    ours = ROOT / "dist/tracker-publish"
    if not cli.exists():
        return {"not_measured": "the CLI venv is missing (make cli-venv)"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        project, home = make_project(Path(tmp), issues)
        env = dict(os.environ, HOME=str(home), SPEC_KITTY_ENABLE_SAAS_SYNC="1")
        for k in ("SAAS_API_URL", "SAAS_AUTH_TOKEN", "SPECIFY_REPO_ROOT"):
            env.pop(k, None)
        Sink.bodies.clear()
        # One warm-up each (page cache, Python bytecode), then alternate.
        time_runs([str(ours), "publish", "--server-url", url], project, env, 1)
        time_runs([str(cli), "tracker", "sync", "publish", "--server-url", url], project, env, 1)
        Sink.bodies = Sink.bodies[:1]
        a, b = [], []
        for _ in range(runs):
            a += time_runs([str(ours), "publish", "--server-url", url], project, env, 1)
            b += time_runs([str(cli), "tracker", "sync", "publish", "--server-url", url], project, env, 1)
            # Keep one body of each tool, so memory stays flat.
            Sink.bodies = Sink.bodies[:1] + Sink.bodies[-2:]
        server.shutdown()
        if len({hashlib.sha256(b).digest() for b in Sink.bodies}) != 1:
            raise SystemExit("the two tools posted different bodies")
    ta, tb = spread(a), spread(b)
    return {"issues": issues, "runs": runs, "tracker_publish_ms": ta, "cli_ms": tb,
            "ratio": tb["median"] / ta["median"], "same_body": True}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    r = measure(a.issues, a.runs)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{a.issues} issues: tracker-publish {r['tracker_publish_ms']['median']:.0f} ms, "
              f"CLI {r['cli_ms']['median']:.0f} ms ({r['ratio']:.1f}x)")
