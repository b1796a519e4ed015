#!/usr/bin/env python3
"""Seeded snapshot inputs (the JSON form of publish-contract.md section 1).

    python3 bench/gen_snapshot.py N [--seed S] > snapshot.json

Realistic field sizes: titles of 20-80 characters, bodies of a few hundred
bytes with non-ASCII text and control characters, labels and assignees.
The same N and seed always give the same bytes.
"""

import argparse
import json
import random

WORDS = ("login fix crash page report sync tracker board sprint release api token user "
         "export import cache index query timeout retry banner layout theme mobile "
         "café naïve Zürich 東京 データ ошибка résumé 🙂 über").split()
STATUSES = ["todo", "in_progress", "in_review", "blocked", "done", "canceled"]
TYPES = ["epic", "story", "task", "bug", "chore", "subtask"]
PEOPLE = ["ana", "bruno", "chloé", "dmitri", "eun-ji", "farah", "gus"]
LABELS = ["auth", "backend", "frontend", "ux", "perf", "ü-label", "infra", "docs"]


def sentence(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def body(rng):
    parts = [sentence(rng, 8, 20) for _ in range(rng.randint(2, 5))]
    text = "\n".join(parts)
    if rng.random() < 0.3:
        text += '\n\tsteps: "open" \\ "click"\r\n'
    if rng.random() < 0.05:
        text += "\x01\x1f"
    return text


def issue(rng, i):
    key = f"ACME-{i + 1}"
    return {
        "ref": {
            "system": "jira",
            "workspace": "acme.atlassian.net",
            "id": str(10000 + i),
            "key": key,
            "url": f"https://acme.atlassian.net/browse/{key}",
        },
        "title": sentence(rng, 3, 10),
        "body": body(rng) if rng.random() < 0.9 else None,
        "status": rng.choice(STATUSES),
        "issue_type": rng.choice(TYPES),
        "priority": rng.choice([None, 0, 1, 2, 3, 4]),
        "assignees": rng.sample(PEOPLE, rng.randint(0, 2)),
        "labels": rng.sample(LABELS, rng.randint(0, 3)),
        "updated_at": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:30:00+00:00",
    }


def snapshot(n, seed):
    rng = random.Random(seed)
    issues = [issue(rng, i) for i in range(n)]
    mappings = [
        {
            "wp_id": f"WP{i + 1:02d}",
            "system": "jira",
            "workspace": "acme.atlassian.net",
            "external_id": str(10000 + i),
            "external_key": f"ACME-{i + 1}",
            "external_url": None,
            "created_at": "2026-03-10T00:00:00+00:00",
            "updated_at": "2026-03-10T00:00:00+00:00",
        }
        for i in range(min(n, 50))
    ]
    return {
        "server_url": "http://127.0.0.1:8080",
        "auth_token": "bench-token",
        "provider": "jira",
        "workspace": "acme.atlassian.net",
        "doctrine_mode": "external_authoritative",
        "doctrine_field_owners": {"status": "external", "title": "local"},
        "credentials": {"base_url": "https://acme.atlassian.net", "email": "a@b.com", "project_key": "ACME"},
        "project_uuid": "550e8400-e29b-41d4-a716-446655440000",
        "project_slug": "spec-kitty",
        "issues": issues,
        "mappings": mappings,
        "checkpoint": {"cursor": "c-42", "updated_since": "2026-03-10T08:30:00+00:00"},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("issues", type=int, help="number of issues")
    ap.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    args = ap.parse_args()
    print(json.dumps(snapshot(args.issues, args.seed), ensure_ascii=False))


if __name__ == "__main__":
    main()
