"""The released CLI's reading of generated .kittify/config.yaml files, for
host-examples/wasmtime/tests/config_differential.rs.

  python config_yaml.py SEED N DIR

Writes DIR/<i>/.kittify/config.yaml and prints one JSON line per case with
what spec-kitty-cli 2.1.3 makes of it: its tracker config (load_tracker_config)
and project identity (TrackerService._project_identity), or the error it
stops with, plus `garbled`: the places project-state.md marks "(refused; the
CLI ...)" where the CLI reads the file but publishes something else.
"""

import datetime
import json
import random
import sys
from pathlib import Path

SCALARS = [
    "jira", " Jira ", '"jira"', "'Jira'", "linear", "acme.atlassian.net", '"  "', "''", "012", "1_000",
    "-0", "+5", "7", "yes", "no", "on", "off", "true", "True", "TRUE", "false", "~", "null", "Null", "",
    "1.5", ".inf", "-.inf", ".nan", "1e3", "2026-03-10", "2026-03-10 08:30:00", "0x1F", "0o17", "0b101",
    '"é漢"', "external", "local", "split_ownership", '"a: b"', "a b", "[a, b]", "{a: 1}", "!!str 12",
]


def scalar(rng):
    return rng.choice(SCALARS)


def case(rng):
    lines = []
    if rng.random() < 0.8:
        lines.append("project:")
        if rng.random() < 0.8:
            lines.append(f"  uuid: {scalar(rng) if rng.random() < 0.5 else '550e8400-e29b-41d4-a716-446655440000'}")
        if rng.random() < 0.8:
            lines.append(f"  slug: {scalar(rng)}")
    if rng.random() < 0.95:
        lines.append("tracker:")
        lines.append(f"  provider: {scalar(rng) if rng.random() < 0.6 else 'jira'}")
        lines.append(f"  workspace: {scalar(rng) if rng.random() < 0.4 else 'acme.atlassian.net'}")
        if rng.random() < 0.3:
            lines.append(f"  provider: {scalar(rng)}")  # repeated key
        if rng.random() < 0.8:
            lines.append("  doctrine:")
            if rng.random() < 0.8:
                lines.append(f"    mode: {scalar(rng)}")
            if rng.random() < 0.8:
                lines.append("    field_owners:")
                for _ in range(rng.randint(0, 4)):
                    k = rng.choice(["status", "title", "1", "true", "'1'", "x", '" "', "~", "1.5", "2026-03-10", "status"])
                    lines.append(f"      {k}: {scalar(rng)}")
    if rng.random() < 0.05:
        lines.append("base: &b\n  provider: jira\nother: *b")
    return "\n".join(lines) + "\n"


def garbled(text, tracker, project):
    bad = []
    if "!!" in text:
        bad.append("tag")
    refused = (type(None), float, datetime.date, datetime.datetime, list, dict)
    owners = tracker.get("doctrine", {}).get("field_owners") if isinstance(tracker, dict) and isinstance(tracker.get("doctrine"), dict) else None
    if isinstance(owners, dict):
        for k, v in owners.items():
            if isinstance(k, refused) or isinstance(v, refused) or type(k) is tuple:
                bad.append("field_owners")
    if isinstance(project, dict):
        for k in ("uuid", "slug"):
            v = project.get(k)
            # ruamel's round-trip loader gives int subclasses (ScalarInt) for 012, 1_000.
            if v is not None and not (isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))):
                bad.append("project." + k)
    return bad


def main():
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    from ruamel.yaml import YAML
    from specify_cli.tracker.config import load_tracker_config
    from specify_cli.tracker.service import TrackerService

    rng = random.Random(seed)
    for i in range(n):
        text = case(rng)
        root = out / str(i)
        (root / ".kittify").mkdir(parents=True, exist_ok=True)
        (root / ".kittify" / "config.yaml").write_text(text, encoding="utf-8")
        rec = {"i": i, "text": text}
        try:
            cfg = load_tracker_config(root)
            svc = TrackerService.__new__(TrackerService)
            svc.repo_root = root
            ident = svc._project_identity()
            raw = YAML().load(text) or {}
            tracker = raw.get("tracker") if isinstance(raw, dict) else None
            project = raw.get("project") if isinstance(raw, dict) else None
            rec.update({
                "ok": True,
                "provider": cfg.provider, "workspace": cfg.workspace,
                "doctrine_mode": cfg.doctrine_mode,
                "field_owners": list(cfg.doctrine_field_owners.items()),
                "uuid": ident["uuid"], "slug": ident["slug"],
                "garbled": garbled(text, tracker, project),
            })
        except Exception as e:
            rec.update({"ok": False, "error": type(e).__name__})
        print(json.dumps(rec, ensure_ascii=False))


if __name__ == "__main__":
    main()
