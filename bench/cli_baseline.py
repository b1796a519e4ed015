#!/usr/bin/env python3
"""The baseline: what spec-kitty-cli 2.1.3 does to build a request, in plain Python.

    python3 bench/cli_baseline.py snapshot.json [--iterations N]

Per iteration: build the payload dict in contract order, `json.dumps(payload,
ensure_ascii=False, separators=(",", ":"))`, encode, and `hashlib.sha256` of
the v1 key string (as `TrackerService.sync_publish` does; httpx's `json=`
serialises with those settings). Reading and parsing the input file is not
timed, as the CLI holds its rows in memory already. Prints a JSON object with
the median and spread (p25, p75, min, max) in milliseconds.
"""

import argparse
import hashlib
import json
import statistics
import time

ALIASES = {"azure-devops": "azure_devops", "azure": "azure_devops"}
ROUTING = {"jira": ("jira_project", "project_key"), "linear": ("linear_team", "team_id")}


def build(inp):
    provider = inp["provider"].strip().lower()
    provider = ALIASES.get(provider, provider)
    workspace = inp["workspace"].strip()
    creds = inp["credentials"]
    rtype = rid = None
    entry = ROUTING.get(provider)
    if entry is not None:
        value = creds.get(entry[1])
        if value is not None and str(value).strip():
            rtype, rid = entry[0], str(value).strip()
    mode = (inp.get("doctrine_mode") or "").strip() or "external_authoritative"
    owners = {k: v for k, v in inp["doctrine_field_owners"].items() if k.strip() and v.strip()}
    cp = inp["checkpoint"]
    payload = {
        "provider": provider,
        "workspace": workspace,
        "external_resource_type": rtype,
        "external_resource_id": rid,
        "doctrine_mode": mode,
        "doctrine_field_owners": owners,
        "project_uuid": inp["project_uuid"],
        "project_slug": inp["project_slug"],
        "issues": [
            {
                "ref": dict(i["ref"]),
                "title": i["title"],
                "body": i["body"],
                "status": i["status"],
                "issue_type": i["issue_type"],
                "priority": i["priority"],
                "assignees": list(i["assignees"]),
                "labels": list(i["labels"]),
                "updated_at": i["updated_at"],
            }
            for i in inp["issues"]
        ],
        "mappings": inp["mappings"],
        "checkpoint": {
            "cursor": cp["cursor"] if cp else None,
            "updated_since": cp["updated_since"] if cp else None,
        },
    }
    endpoint = inp["server_url"].rstrip("/") + "/api/v1/connectors/trackers/snapshots/"
    key = hashlib.sha256(
        f"{provider}|{workspace}|{rtype}|{rid}|{len(inp['issues'])}|{len(inp['mappings'])}|{payload['checkpoint']['cursor']}".encode("utf-8")
    ).hexdigest()
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return endpoint, key, body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as f:
        inp = json.load(f)
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        build(inp)
        times.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1 else times * 3
    print(json.dumps({
        "payload_python_ms": statistics.median(times),
        "p25_ms": q[0],
        "p75_ms": q[2],
        "min_ms": min(times),
        "max_ms": max(times),
        "iterations": args.iterations,
        "body_bytes": len(build(inp)[2]),
    }))


if __name__ == "__main__":
    main()
