"""Reference outputs for tests/stored.rs, from the real thing.

  python stored_rows.py timestamps SEED N   Python 3.11's fromisoformat().isoformat()
  python stored_rows.py isdigit             every code point Python's str.isdigit accepts
  python stored_rows.py rows SEED N         the released CLI's own row conversion
                                            (spec-kitty-cli 2.1.3: store._deserialize_issue,
                                            then TrackerService._issue_snapshot)

One JSON object per line on stdout. `rows` needs the interoperability
virtual environment (make cli-venv), where spec-kitty-cli is installed.
"""

import json
import random
import sys
from datetime import datetime


def timestamp_cases(rng, n):
    fixed = [
        "2026-03-10T08:30:00Z", "2026-03-10", "2026-03-10T08", "2026-03-10T0830",
        "2026-03-10 08:30:00.5", "20260310T083000", "2026-W10-2", "2026W102", "2026W10",
        "2026-W53", "2020-W53-7", "2026-03-10T08:30:00+05", "2026-03-10T08:30:00-00:00",
        "2026-03-10T08:30:00z", "2026-03-10T24:00:00", "2026-03-10T08:30:00.1234567",
        "2026-03-10T08:30:00,5", "2026-03-10T08:30:00+05:30:15.5", "2026-03-10T08:30:00 ",
        "2026-03-10x08:30", "2026-03-10T08:30:00.123+01", "2026-03-10T08:30:00Z+01",
        "+2026-03-10", "2026-03-1", "2026-03-10T8:30", "2026-03-10T08:30:60", "0000-01-01",
        "2026-03-10T08:30:00+24:00", "2026-03-10T08:30:00+23:59:59.999999",
        "2026-03-10T08:30:00.000000", "2026-03-10T08:30:00-0530", "2026-03-10ñ08:30",
        "2026-03-10T08:30:00.123\x00", "2026-03-10T08:30:00\x00", "2026-03-10\x00",
        "2026-03-10T", "2026-03-10T08.5", "2026-03-10T08:30:00+00:00:00.5",
        "2026-03-10T08:30:00+01:99", "0000-W52-7", "9999-W52-6", "9999-W52-5",
        "2026-03-10T08:30:00.+01", "2026-03-10T08:30:00.", "2026-02-29", "2024-02-29",
        "2026-03-10漢08:30", "2026-03-10🙂08:30", "1999-12-31T23:59:59.999999-23:59",
    ]
    alphabet = "0123456789" * 4 + "-:T W Z+.,z\x00ñ漢🙂t"
    parts = ["2026", "-", "03", "-", "10", "T", "08", ":", "30", ":", "00", ".", "5", "123456",
             "1234567", "Z", "+", "-", "05", ":30", "0530", ",", "W", "10", "53", "7", " ", "\x00"]
    for s in fixed:
        yield s
    for _ in range(n):
        r = rng.random()
        if r < 0.4:
            s = "".join(rng.choice(parts) for _ in range(rng.randint(1, 12)))
        elif r < 0.7:
            base = "%04d-%02d-%02dT%02d:%02d:%02d" % (
                rng.randint(0, 10000), rng.randint(0, 13), rng.randint(0, 32),
                rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61))
            s = base + rng.choice(["", "Z", ".5", ".123456789", "+05:30", "-0800", "+00:00:00.000001", "+1", "+12:34:56.789"])
        else:
            s = list("2026-03-10T08:30:00.123456+01:00")
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(s))
                op = rng.random()
                if op < 0.4:
                    s[i] = rng.choice(alphabet)
                elif op < 0.7:
                    del s[i]
                else:
                    s.insert(i, rng.choice(alphabet))
            s = "".join(s)
        yield s


def mode_timestamps(seed, n):
    rng = random.Random(seed)
    for s in timestamp_cases(rng, n):
        try:
            iso = datetime.fromisoformat(s).isoformat()
        except ValueError:
            iso = None
        print(json.dumps({"s": s, "iso": iso}, ensure_ascii=False))


def mode_isdigit():
    ranges, start = [], None
    for c in range(0x110000):
        d = chr(c).isdigit()
        if d and start is None:
            start = c
        if not d and start is not None:
            ranges.append([start, c - 1])
            start = None
    print(json.dumps({"ranges": ranges}))


WS = ["", " ", "\t", "\u3000", "\x1c", "\u00a0"]
TEXT = ["ACME-1", "Fix the login", "écrire", "漢字", "a\"b\\c", "tab\there", "nl\nx", "\x00\x1f", "🙂"]


def any_value(rng, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.5:
        return rng.choice([None, True, False, 0, -0, 1, 7, -3, 10**30, 0.0, -0.0, 7.5, 1e-400, "", " ",
                           "x", "0", "٣", "²", "3", "003", "high", [], {}, [1], {"a": 1}, "2026-03-10T08:30:00Z"])
    if r < 0.75:
        return [any_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "system", "id"]): any_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def field_value(rng, name):
    r = rng.random()
    if r < 0.9:
        if name in ("system", "workspace", "id"):
            return rng.choice(["jira", "acme.atlassian.net", "10001", "Jira", " jira ", 42]) if rng.random() < 0.97 else rng.choice(WS)
        if name in ("key", "url", "body", "title"):
            return rng.choice(TEXT + [None, "", 5] if rng.random() < 0.3 else TEXT)
        if name == "status":
            return rng.choice(["todo", "in_progress", "in_review", "blocked", "done", "canceled", "Done", "wontfix"])
        if name == "issue_type":
            return rng.choice(["epic", "story", "task", "bug", "chore", "subtask", "Bug", "incident"])
        if name == "priority":
            return rng.choice([0, 1, 2, 3, 4, None, "2", "04", "high", 3.5, "", " 2"] + ([5, -1, "٣", "²", "1³", True] if rng.random() < 0.2 else []))
        if name in ("assignees", "labels"):
            return [rng.choice(TEXT + [7]) for _ in range(rng.randint(0, 3))] if rng.random() < 0.95 else rng.choice(["ana", None, {"a": 1}, [None]])
        if name == "updated_at":
            return rng.choice(["2026-03-10T08:30:00Z", "2026-03-10", "2026-03-10T08:30:00.5+01:00", "garbage", "", " ", None, 5])
    return any_value(rng)


def row_case(rng):
    ref = {k: field_value(rng, k) for k in ("system", "workspace", "id", "key", "url") if rng.random() < 0.93}
    issue = {}
    if rng.random() < 0.97:
        issue["ref"] = ref if rng.random() < 0.97 else any_value(rng)
    for k in ("title", "body", "status", "issue_type", "priority", "assignees", "labels", "updated_at"):
        if rng.random() < 0.9:
            issue[k] = field_value(rng, k)
    if rng.random() < 0.2:
        issue["parent"] = {k: field_value(rng, k) for k in ("system", "workspace", "id") if rng.random() < 0.9}
    if rng.random() < 0.2:
        issue["links"] = [{"type": "blocks", "target": {k: field_value(rng, k) for k in ("system", "workspace", "id")}}
                          for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.2:
        issue["raw"] = any_value(rng)
        issue["custom_fields"] = {"x": any_value(rng)}
    text = json.dumps(issue, ensure_ascii=rng.random() < 0.5)
    r = rng.random()
    if r < 0.03:
        text = text[:-1] + ',"title":"dup"}' if text != "{}" else '{"title":"dup"}'
    elif r < 0.05:
        text = text.replace("}", ',"raw":NaN}', 1) if text.endswith("}") else text
    elif r < 0.06:
        text = text[:-1] + ',"raw":1E400}' if len(text) > 2 else text
    elif r < 0.07:
        text = text[:-1] + ',"raw":"\\ud800"}' if len(text) > 2 else text
    elif r < 0.08:
        text = text[:-1] + ',"raw":-Infinity}' if len(text) > 2 else text
    elif r < 0.09:
        text = rng.choice(["[]", "5", '"x"', "null", "{", "{\"ref\": {}} x"])
    return text


def garbled(text):
    """The places project-state.md marks "(refused; the CLI ...)" where the
    CLI does not crash but publishes something else than what is stored."""
    bad = []

    def const(name):
        bad.append("constant " + name)
        return float("nan")

    def flt(t):
        v = float(t)
        if v in (float("inf"), float("-inf")):
            bad.append("inf")
        return v

    data = json.loads(text, parse_constant=const, parse_float=flt)

    def walk(v):
        if isinstance(v, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
                bad.append("surrogate")
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)

    walk(data)
    textish = lambda v: v is None or type(v) in (str, int)
    ref = data.get("ref", {})
    for k in ("system", "workspace", "id"):
        if type(ref.get(k)) not in (str, int):
            bad.append("ref." + k)
    for k in ("key", "url"):
        if not textish(ref.get(k)):
            bad.append("ref." + k)
    if not textish(data.get("body")):
        bad.append("body")
    if data.get("title") is not None and type(data.get("title")) is not str:
        bad.append("title")
    p = data.get("priority")
    if type(p) is bool or (type(p) is str and p.isdigit() and not all(c in "0123456789" for c in p)):
        bad.append("priority")
    for k in ("assignees", "labels"):
        if k in data and (type(data[k]) is not list or not all(type(x) in (str, int) for x in data[k])):
            bad.append(k)
    return bad


def mode_rows(seed, n):
    from specify_cli.tracker.service import TrackerService
    from specify_cli.tracker.store import _deserialize_issue

    rng = random.Random(seed)
    for _ in range(n):
        text = row_case(rng)
        try:
            snapshot = TrackerService._issue_snapshot(_deserialize_issue(json.loads(text)))
            out = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            crash = None
            bad = garbled(text)
        except Exception as e:  # the CLI stops here
            out, crash, bad = None, type(e).__name__, []
        print(json.dumps({"payload": text, "cli": out, "crash": crash, "garbled": bad}, ensure_ascii=True))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "timestamps":
        mode_timestamps(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "isdigit":
        mode_isdigit()
    elif mode == "rows":
        mode_rows(int(sys.argv[2]), int(sys.argv[3]))
