#!/usr/bin/env python3
"""Writes the seed corpora: for payload_json, the input of each conformance
vector as one JSON file under fuzz/corpus/payload_json/; for routing, a few
NUL-separated provider/credential inputs under fuzz/corpus/routing/; for
verify, each vector's input and each expected body under fuzz/corpus/verify/.

    python3 fuzz/make_seeds.py [path/to/vectors.json]
"""
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
vectors = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/conformance/vectors.json")
out = here / "corpus" / "payload_json"
out.mkdir(parents=True, exist_ok=True)
for i, v in enumerate(json.loads(vectors.read_text(encoding="utf-8"))):
    text = v["input"] if isinstance(v["input"], str) else json.dumps(v["input"], ensure_ascii=False)
    (out / f"seed-{i:02d}.json").write_text(text, encoding="utf-8")
print(f"wrote {i + 1} seeds to {out}")

# The routing target: provider, then key/value pairs, separated by NUL bytes.
out = here / "corpus" / "routing"
out.mkdir(parents=True, exist_ok=True)
routing = [
    b"jira\0project_key\0 ACME\x1c",
    b"Linear \0team_id\0t1\0team_id\0t2",
    b"jira\0project_key\0\xe3\x80\x80 ",
]
for i, seed in enumerate(routing):
    (out / f"seed-{i:02d}").write_bytes(seed)
print(f"wrote {len(routing)} seeds to {out}")

# The verify target: inputs (built, then verified) and expected bodies (verified).
out = here / "corpus" / "verify"
out.mkdir(parents=True, exist_ok=True)
n = 0
for v in json.loads(vectors.read_text(encoding="utf-8")):
    text = v["input"] if isinstance(v["input"], str) else json.dumps(v["input"], ensure_ascii=False)
    (out / f"seed-{n:02d}.json").write_text(text, encoding="utf-8")
    n += 1
    if "body" in v["expected"]:
        (out / f"seed-{n:02d}.json").write_text(v["expected"]["body"], encoding="utf-8")
        n += 1
print(f"wrote {n} seeds to {out}")
