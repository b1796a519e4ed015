"""The released CLI's reading of generated ~/.spec-kitty/credentials files,
for host-examples/wasmtime/tests/credentials_differential.rs.

  python credentials_toml.py SEED N DIR

Writes DIR/<i>.toml and prints one JSON line per case: the provider table
the CLI reads for provider "jira" (TrackerCredentialStore.get_provider), the
token it sends, the routing it derives, and its store path's file name; or
the error it stops with. `garbled` lists the keys project-state.md refuses
where the CLI sends a Python repr (a float, boolean, date, array or table
under one of the nine keys the publish uses).
"""

import datetime
import json
import random
import sys
from pathlib import Path

USED = ["project_key", "team_id", "access_token", "token", "server_url", "base_url", "username", "email", "team_slug"]
VALUES = ['"ACME"', '" ACME "', '""', '"  "', '"tok-1"', '"https://acme.atlassian.net"', '"Ana@Example.com"',
          '"Core"', "0", "7", "-3", "1.5", "true", "false", "1979-05-27", "[1, 2]", "{ a = 1 }", "'lit'",
          '"\\u00e9"', '"\\e"', '"""multi\nline"""']


def case(rng):
    lines = []
    if rng.random() < 0.1:
        lines.append(rng.choice(["garbage = ", "[tracker", "a = 1\na = 2", "x = { a = 1,\n b = 2 }"]))
    header = rng.choice(["[tracker.providers.jira]"] * 6 + ["[tracker.providers.Jira]", "[tracker.providers.linear]", "[tracker]"])
    lines.append(header)
    for k in rng.sample(USED + ["api_token", "extra"], rng.randint(0, 6)):
        lines.append(f"{k} = {rng.choice(VALUES)}")
    if rng.random() < 0.05:
        lines = ["[tracker]", 'providers = "none"']
    return "\n".join(lines) + "\n"


def main():
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    from specify_cli.tracker.credentials import TrackerCredentialStore
    from specify_cli.tracker.service import TrackerService
    from specify_cli.tracker.config import TrackerProjectConfig

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = case(rng)
        path = out / f"{i}.toml"
        path.write_text(text, encoding="utf-8")
        rec = {"i": i, "text": text}
        try:
            creds = TrackerCredentialStore(path).get_provider("jira")
            token = str(creds.get("access_token") or creds.get("token") or "").strip()
            routing = TrackerService._resolve_resource_routing("jira", creds)
            svc = TrackerService.__new__(TrackerService)
            db = svc._resolve_db_path(TrackerProjectConfig(provider="jira", workspace="w"), creds)
            bad = [k for k in USED if k in creds and not (isinstance(creds[k], str) or (isinstance(creds[k], int) and not isinstance(creds[k], bool)))]
            rec.update({"ok": True, "token": token, "routing": list(routing), "store": db.name, "garbled": bad})
        except Exception as e:
            rec.update({"ok": False, "error": type(e).__name__})
        print(json.dumps(rec, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
