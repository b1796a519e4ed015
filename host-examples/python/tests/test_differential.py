"""The component against a plain-Python implementation of the CLI's request code, byte for byte.

The reference is tests/reference/cli_payload.py (shared with
tests/python_differential.rs): the payload dict in contract order,
`json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`, `hashlib`
sha256 of the v1 key string, the CLI's strip/lower/aliases and token
expression, plus the refusals the contract adds. Inputs are generated from a
fixed seed (`TRACKER_PUBLISH_DIFF_SEED`, `TRACKER_PUBLISH_DIFF_CASES` override):
non-ASCII text, control characters, the 29 Python white-space code points and
look-alikes, provider aliases and case, good and bad tokens and URLs, and a
share of malformed shapes. Each input goes to both as the same dict.
"""

from __future__ import annotations

import hashlib
import json
import os
import random

import pytest
from conftest import load_reference

from tracker_publish import PublishError, build_snapshot_payload

REF = load_reference()
SEED = int(os.environ.get("TRACKER_PUBLISH_DIFF_SEED", "20260310"), 0)
CASES = int(os.environ.get("TRACKER_PUBLISH_DIFF_CASES", "3000"))

# Python's 29 white-space code points (str.isspace / str.strip).
PY_WHITE_SPACE = [chr(c) for c in (
    0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
    0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
)]
# Invisible or space-like, but not Python white space.
NOT_WHITE_SPACE = ["\u200b", "\ufeff", "\u180e", "\u2060", "\u200c", "\u200d", "\x00", "\x01", "\x1b", "\x7f", "\x80", "\x9f"]
SPECIAL = list("\"\\/'@:|{}[],#?")
NON_ASCII = ["é", "漢", "🙂", "İ", "Σ", "ς", "σ", "ß", "ẞ", "Ω", "\u212a", "ǅ", "Ⅻ", "\u0301", "\ue000", "ı"]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
SIGMA_WORDS = ["ΟΔΟΣ", "ΑΣ", "Σ", "ΣΑ", "ΟΔΟΣ ΟΔΟΣ", "ΑΣ'", "ΑΣ\u200b", "ΑΣ\u0301", "ΑΣ.Β", "ΑΣ\u0301Β"]
PROVIDERS = [
    "jira", "Jira", "JIRA", "jIrA", "linear", "Linear", "LINEAR", "azure", "Azure", "AZURE",
    "azure-devops", "Azure-DevOps", "AZURE-DEVOPS", "azure_devops", "azure devops", "azure-",
    "beads", "notion", "GitHub", "JİRA", "İ", "ΟΔΟΣ", "ΣΑΣ", "STRAẞE", "straße", "jira\u200b", "\ufefflinear", "ji ra",
]
URLS_OK = [
    "https://example.com", "http://example.com", "HTTPS://EXAMPLE.COM", "HtTp://localhost:8000",
    "https://example.com/base", "https://example.com//a//b", "https://example.com/a@b", "http://[::1]:8080",
    "https://[2001:db8::1]", "https://exämple.com", "https://example.com:443/x?y=1", "https://example.com#frag",
    "http://127.0.0.1:65535",
]
URLS_BAD = [
    "ftp://example.com", "example.com", "//example.com", "https://", "https:///x", "http://:8080",
    "https://user:pw-secret@example.com", "https://user@example.com", "mailto:a@example.com", "",
    "https://exa mple.com", "https://example.com\t", " https://example.com", "https://example.com:99999",
    "https://example.com:abc", "javascript:alert(1)", "file:///etc/passwd",
]
TOKENS_GOOD = ["test-token", "tok", "abc.DEF_123~!", "ghp_ABCdef0123456789", "".join(chr(c) for c in range(0x21, 0x7F))]
TOKENS_BAD = [" abc", "abc ", "a b", "a\tb", "a\r\nX-Evil: 1", "a\x00b", "a\x7fb", "tokén", "tok🙂", "\x1cabc", "\xa0abc", "\u200b", "abc\x85"]


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chance(self, percent: int) -> bool:
        return self.r.randrange(100) < percent

    def pick(self, items):
        return self.r.choice(items)

    def char(self) -> str:
        k = self.r.randrange(10)
        if k <= 3:
            return self.pick(ALNUM)
        if k == 4:
            return self.pick(PY_WHITE_SPACE)
        if k == 5:
            return self.pick(NOT_WHITE_SPACE)
        if k == 6:
            return self.pick(SPECIAL)
        if k <= 8:
            return self.pick(NON_ASCII)
        return chr(self.r.randrange(0x20))

    def text(self, most: int) -> str:
        return "".join(self.pick(SIGMA_WORDS) if self.chance(5) else self.char() for _ in range(self.r.randint(0, most)))

    def pad(self) -> str:
        return "".join(self.pick(NOT_WHITE_SPACE) if self.chance(10) else self.pick(PY_WHITE_SPACE) for _ in range(self.r.randrange(4)))

    def padded(self, core: str) -> str:
        return f"{self.pad()}{core}{self.pad()}" if self.chance(50) else core

    def blank(self) -> str:
        return "".join(self.pick(PY_WHITE_SPACE) for _ in range(self.r.randrange(3)))

    def opt(self, percent_none: int, value):
        return None if self.chance(percent_none) else value()

    def provider(self) -> str:
        k = self.r.randrange(20)
        if k == 0:
            return self.blank()
        if k == 1:
            return self.text(6)
        if k == 2:
            return self.padded(self.pick(SIGMA_WORDS))
        return self.padded(self.pick(PROVIDERS))

    def workspace(self) -> str:
        k = self.r.randrange(12)
        if k == 0:
            return self.blank()
        if k <= 2:
            return self.text(8)
        return self.padded(self.pick(["acme.atlassian.net", "acme", "é漢🙂", "Acme Corp", "a|b", "None"]))

    def server_url(self) -> str:
        base = self.pick(URLS_OK) if self.chance(88) else self.pick(URLS_BAD)
        return base + self.pick(["", "", "/", "//", "///"])

    def token(self) -> str:
        k = self.r.randrange(10)
        if k <= 3:
            return self.pick(TOKENS_GOOD)
        if k == 4:
            return self.pick(TOKENS_BAD)
        if k <= 6:
            return f"{self.pad()}{self.pick(TOKENS_GOOD)}{self.pad()}"
        if k == 7:
            return ""
        if k == 8:
            return self.blank()
        return self.text(5)

    def routing_value(self) -> str:
        k = self.r.randrange(8)
        if k <= 1:
            return self.pick(["ACME", "BETA", "abc-123", "T-1", "None"])
        if k == 2:
            return f"{self.pad()}{self.pick(['ACME', 'abc-123'])}{self.pad()}"
        if k == 3:
            return ""
        if k == 4:
            return self.blank()
        return self.padded(self.text(5))

    def credentials(self) -> dict:
        creds = {}
        for key in ("base_url", "email", "api_token", "project_key", "team_id", "access_token", "token", "Project_Key"):
            if self.chance(40):
                if key in ("project_key", "team_id", "Project_Key"):
                    creds[key] = self.routing_value()
                elif key in ("access_token", "token", "api_token"):
                    creds[key] = self.token()
                else:
                    creds[key] = self.text(6)
        return creds

    def issue(self, i: int) -> dict:
        return {
            "ref": {
                "system": self.pick(["jira", "linear", self.text(4)]),
                "workspace": self.padded("acme"),
                "id": str(10000 + i) if self.chance(80) else self.text(6),
                "key": self.opt(20, lambda: f"ACME-{i}"),
                "url": self.opt(30, lambda: f"https://acme.example/browse/{self.text(3)}"),
            },
            "title": self.text(24),
            "body": self.opt(25, lambda: self.text(80)),
            "status": self.pick(["todo", "in_progress", "in_review", "blocked", "done", "canceled"]),
            "issue_type": self.pick(["epic", "story", "task", "bug", "chore", "subtask"]),
            "priority": self.opt(30, lambda: self.pick([0, 1, 2, 3, 4, -1, 2**62, -(2**63)])),
            "assignees": [self.text(8) for _ in range(self.r.randrange(3))],
            "labels": [self.text(6) for _ in range(self.r.randrange(3))],
            "updated_at": self.opt(30, lambda: "2026-03-10T12:00:00+00:00"),
        }

    def mapping(self) -> dict:
        return {
            "wp_id": f"WP{self.r.randrange(100):02d}",
            "system": "jira",
            "workspace": self.text(5),
            "external_id": self.text(6),
            "external_key": self.opt(30, lambda: self.text(5)),
            "external_url": self.opt(50, lambda: "https://x.example/" + self.text(4)),
            "created_at": "2026-01-01T00:00:00",
            "updated_at": self.text(10),
        }

    def valid(self) -> dict:
        inp = {
            "server_url": self.server_url(),
            "auth_token": self.opt(40, self.token),
            "provider": self.provider(),
            "workspace": self.workspace(),
            "doctrine_mode": self.opt(30, lambda: self.pick(["external_authoritative", "", "  ", self.padded("spec_kitty_authoritative"), self.text(6)])),
            "doctrine_field_owners": {self.padded(self.pick(["title", "status", "", " "])) + self.text(2): self.pick(["", " ", "tracker", self.text(4)]) for _ in range(self.r.randrange(4))},
            "credentials": self.credentials(),
            "project_uuid": self.opt(30, lambda: "550e8400-e29b-41d4-a716-446655440000"),
            "project_slug": self.opt(30, lambda: self.text(8)),
            "issues": [self.issue(i) for i in range(self.r.randrange(4))],
            "mappings": [self.mapping() for _ in range(self.r.randrange(3))],
            "checkpoint": self.opt(40, lambda: {"cursor": self.opt(30, lambda: self.text(6)), "updated_since": self.opt(30, lambda: "2026-03-01T00:00:00")}),
        }
        if self.chance(10):
            del inp["doctrine_mode"]  # optional in the JSON form
        return inp

    def broken(self, inp: dict) -> dict:
        """A malformed shape: a missing, unknown or wrongly typed field, or a lone surrogate."""
        k = self.r.randrange(7)
        if k == 0:
            inp.pop(self.pick(["server_url", "provider", "workspace", "credentials", "issues", "mappings", "checkpoint"]))
        elif k == 1:
            inp[self.pick(["extra", "Provider", "issue"])] = None
        elif k == 2:
            inp[self.pick(["server_url", "provider", "issues", "credentials"])] = self.pick([1, True, [], {}, 1.5])
        elif k == 3:
            inp["issues"] = [{**self.issue(0), "priority": self.pick(["1", 1.5, 2**63, True])}]
        elif k == 4:
            inp["credentials"] = {"project_key": self.pick([1, None, ["A"]])}
        elif k == 5:
            inp["workspace"] = "a\ud800b"
        else:
            inp["checkpoint"] = {"cursor": None}
        return inp

    def input(self) -> dict:
        inp = self.valid()
        return self.broken(inp) if self.chance(8) else inp


def reference(inp: dict) -> dict:
    # The reference reads JSON text; surrogates travel as \u escapes.
    try:
        return REF.sync_publish(REF.read_input(json.dumps(inp, ensure_ascii=True)))
    except REF.Refused as e:
        return {"error": e.kind}


def component(inp: dict) -> dict:
    try:
        r = build_snapshot_payload(inp)
    except PublishError as e:
        return {"error": e.kind}
    return {"endpoint": r.endpoint, "headers": [list(h) for h in r.headers], "body": r.body, "idempotency_key": r.idempotency_key}


def test_differential_against_the_cli_reference():
    g = Gen(SEED)
    kinds: dict[str, int] = {}
    for n in range(CASES):
        inp = g.input()
        want = reference(inp)
        got = component(inp)
        if "body" in want:
            want["body"] = want["body"].encode("utf-8")
        if got != want:
            pytest.fail(f"seed {SEED}, case {n} differs:\n input {json.dumps(inp, ensure_ascii=True)}\n reference {want!r}\n component {got!r}")
        kind = got.get("error", "request")
        kinds[kind] = kinds.get(kind, 0) + 1
    # The generator reaches requests and every refusal the reference makes.
    assert kinds.get("request", 0) > CASES // 3, kinds
    for kind in ("invalid-input", "not-configured", "invalid-server-url", "invalid-auth-token"):
        assert kinds.get(kind, 0) > 0, kinds


def test_content_key_is_sha256_of_the_reference_body():
    g = Gen(SEED + 1)
    checked = 0
    while checked < 300:
        inp = g.valid()
        want = reference(inp)
        if "body" not in want:
            continue
        r = build_snapshot_payload(inp, idempotency="content")
        body = want["body"].encode("utf-8")
        assert r.body == body
        assert r.idempotency_key == hashlib.sha256(body).hexdigest()
        checked += 1
