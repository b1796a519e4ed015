"""The request sent as is over HTTP on 127.0.0.1: the server receives the component's bytes and headers."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from conftest import base_input

from tracker_publish import build_snapshot_payload


def test_post_over_loopback_carries_the_exact_request():
    received: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 -- http.server's name
            received["path"] = self.path
            received["headers"] = list(self.headers.items())
            received["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        inp = base_input()
        inp["server_url"] = f"http://127.0.0.1:{server.server_address[1]}/"
        inp["issues"] = [
            {
                "ref": {"system": "jira", "workspace": "w", "id": "1", "key": "A-1", "url": None},
                "title": "café 🙂 \u2028 \"q\" \\ \u0001",
                "body": None,
                "status": "todo",
                "issue_type": "bug",
                "priority": 1,
                "assignees": ["chloé"],
                "labels": [],
                "updated_at": None,
            }
        ]
        req = build_snapshot_payload(inp)
        url = urlsplit(req.endpoint)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        # As httpx's client.post(endpoint, content=body, headers=dict(headers)).
        conn.request("POST", url.path, body=req.body, headers=dict(req.headers))
        assert conn.getresponse().status == 202
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
    assert received["path"] == "/api/v1/connectors/trackers/snapshots/"
    assert received["body"] == req.body
    sent = [(k, v) for k, v in received["headers"] if k in dict(req.headers)]
    assert sent == req.headers, "the headers arrive in wire order, unchanged"
