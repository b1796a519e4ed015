"""publish(): the shared retry table through the core's decide-retry, and real POSTs to a loopback server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import REPO, base_input

from tracker_publish import HOST_ERROR_KINDS, PublishError, RetryOptions, build_snapshot_payload, decide_retry, publish

TABLE = REPO / "tests" / "retry_policy.json"
#: The table held this many cases when this was written; fewer means some went missing.
MIN_CASES = 74


def table() -> list[dict]:
    if not TABLE.is_file():
        return []
    return json.loads(TABLE.read_text(encoding="utf-8"))["cases"]


CASES = table()


def test_the_table_is_there():
    assert TABLE.is_file(), f"the retry-policy table is missing: {TABLE}"
    assert len(CASES) >= MIN_CASES and len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_retry_table(case):
    o = case["options"]
    got = decide_retry(case["report"], RetryOptions(o["max_attempts"], o["base_delay_ms"], o["max_delay_ms"]))
    want = ("retry_in_ms", case["expect"]["retry_in_ms"]) if "retry_in_ms" in case["expect"] else ("stop", case["expect"]["stop"])
    assert got == want


def test_a_malformed_report_is_invalid_input_naming_the_field():
    report = {"attempt": 1, "outcome": "status", "status": 503, "now_unix_ms": 0, "random": 0}
    for bad, field in [({"outcome": "gone"}, "report.outcome"), ({"status": 70000}, "report.status")]:
        with pytest.raises(PublishError) as info:
            decide_retry({**report, **bad})
        assert info.value.kind == "invalid-input" and info.value.message.startswith(field)
    assert decide_retry(report) == ("retry_in_ms", 250)


class Server:
    """A loopback HTTP server answering from a script of (status, headers) and recording every request."""

    def __init__(self, script: list[tuple[int, dict]], delay_first: float = 0.0) -> None:
        self.script = list(script)
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"path": self.path, "headers": list(self.headers.items()), "body": body})
                status, headers = outer.script.pop(0) if outer.script else (500, {})
                if delay_first and len(outer.received) == 1:
                    time.sleep(delay_first)
                answer = json.dumps({"n": len(outer.received)}).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # The timed-out client has gone when the slow answer is written: expected, not an error.
        self.httpd.handle_error = lambda request, address: None
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"


def test_publish_sends_the_exact_request_and_retries_under_the_same_key():
    slept: list[float] = []
    seen: list[dict] = []
    with Server([(503, {"Retry-After": "1"}), (429, {}), (202, {})]) as s:
        inp = base_input()
        inp["server_url"] = s.url
        want = build_snapshot_payload(inp)
        r = publish(inp, sleep=slept.append, on_attempt=seen.append)
    assert (r.status, r.ok, r.attempts, r.idempotency_key) == (202, True, 3, want.idempotency_key)
    assert json.loads(r.body) == {"n": 3}
    assert len(s.received) == 3
    for got in s.received:
        assert got["path"] == "/api/v1/connectors/trackers/snapshots/"
        assert got["body"] == want.body
        sent = [(k, v) for k, v in got["headers"] if k in dict(want.headers)]
        assert sent == want.headers, "the headers arrive in wire order, unchanged"
    # Retry-After 1 s raises the first wait to at least 1 s; every wait within the cap.
    assert slept[0] >= 1.0 and all(0 < w <= 30 for w in slept) and len(slept) == 2
    assert [a["status"] for a in seen] == [503, 429, 202] and seen[-1]["retry_in_ms"] is None


def test_a_final_refusal_is_returned_not_retried():
    with Server([(400, {}), (202, {})]) as s:
        inp = base_input()
        inp["server_url"] = s.url
        r = publish(inp, sleep=lambda _: None)
    assert (r.status, r.ok, r.attempts, len(s.received)) == (400, False, 1, 1)


def test_attempts_exhausted_returns_the_last_answer():
    with Server([(503, {})] * 3) as s:
        inp = base_input()
        inp["server_url"] = s.url
        r = publish(inp, sleep=lambda _: None, retry=RetryOptions(max_attempts=3))
    assert (r.status, r.attempts, len(s.received)) == (503, 3, 3)


def test_a_timeout_then_a_409_is_waited_out():
    """Our first attempt got no answer in time; the server then says 409 (still processing it): retried, as the core says."""
    with Server([(202, {}), (409, {}), (202, {})], delay_first=2.5) as s:
        inp = base_input()
        inp["server_url"] = s.url
        r = publish(inp, timeout_seconds=1, sleep=lambda _: None)
    assert r.attempts >= 3 and r.ok
    assert len({x["body"] for x in s.received}) == 1


def test_no_server_is_a_network_error_without_the_token():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inp = base_input()
    inp["server_url"] = f"http://127.0.0.1:{port}/"
    inp["auth_token"] = "secret-token-value"
    with pytest.raises(PublishError) as info:
        publish(inp, sleep=lambda _: None, retry=RetryOptions(max_attempts=2))
    assert info.value.kind == "network-error" and info.value.kind in HOST_ERROR_KINDS
    assert "2 attempts" in info.value.message and "secret-token-value" not in info.value.message


def test_refused_input_sends_nothing():
    with Server([(202, {})]) as s:
        inp = base_input()
        inp["server_url"] = s.url
        inp["provider"] = " "
        with pytest.raises(PublishError) as info:
            publish(inp)
    assert info.value.kind == "not-configured" and s.received == []
    with pytest.raises(PublishError) as info:
        publish(base_input(), timeout_seconds=0)
    assert info.value.message.startswith("timeout_seconds:")
