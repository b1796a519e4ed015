"""Run by the released CLI's Python (target/cli-venv): spec-kitty-cli 2.1.3's own `TrackerService.sync_publish`.

Reads JSON-form inputs, one per line, on stdin; for each, builds the CLI's
`TrackerProjectConfig.from_dict` from it, hands `sync_publish` that config,
the credentials, the issues, mappings and checkpoint in place of the files it
would read, and lets it POST with its own httpx to a loopback server here.
Writes one JSON line per input: what the server received (`path`, `headers`
in order, `body` as text) or `{"error": "<exception type>"}`.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from specify_cli.tracker.config import TrackerProjectConfig
from specify_cli.tracker.service import TrackerService

received: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 -- http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append({"path": self.path, "headers": [[k, v] for k, v in self.headers.items()], "body": body.decode("utf-8")})
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class Stamp:
    """A stored timestamp as the CLI's model holds it; `isoformat()` gives the input's text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def isoformat(self) -> str:
        return self.text


def issue(i: dict) -> SimpleNamespace:
    return SimpleNamespace(
        ref=SimpleNamespace(**i["ref"]),
        title=i["title"],
        body=i["body"],
        status=SimpleNamespace(value=i["status"]),
        issue_type=SimpleNamespace(value=i["issue_type"]),
        priority=i["priority"],
        assignees=i["assignees"],
        labels=i["labels"],
        updated_at=Stamp(i["updated_at"]) if i["updated_at"] else None,
    )


class Store:
    def __init__(self, inp: dict) -> None:
        self.inp = inp

    async def list_issues(self, system=None):
        return [issue(i) for i in self.inp["issues"]]

    def list_mappings(self):
        return self.inp["mappings"]

    def get_checkpoint(self, checkpoint_key):
        cp = self.inp["checkpoint"]
        if cp is None:
            return None
        return SimpleNamespace(cursor=cp["cursor"], updated_since=Stamp(cp["updated_since"]) if cp["updated_since"] else None)


def sync_publish(inp: dict, url: str) -> dict:
    config = TrackerProjectConfig.from_dict(
        {
            "provider": inp["provider"],
            "workspace": inp["workspace"],
            "doctrine": {"mode": inp.get("doctrine_mode"), "field_owners": inp["doctrine_field_owners"]},
        }
    )
    service = TrackerService.__new__(TrackerService)
    service._load_runtime = lambda: (config, inp["credentials"], Store(inp))
    service._project_identity = lambda: {"uuid": inp["project_uuid"], "slug": inp["project_slug"]}
    received.clear()
    # The CLI has no server-URL rule of its own: it posts wherever it is told, here the loopback server.
    result = service.sync_publish(server_url=url, auth_token=inp["auth_token"])
    [got] = received
    return {**got, "endpoint_path": result["endpoint"][len(url.rstrip("/")):], "idempotency_key": result["idempotency_key"]}


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for line in sys.stdin:
        try:
            out = sync_publish(json.loads(line), url)
        except Exception as e:  # the CLI's own failure, reported by type
            out = {"error": type(e).__name__}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    server.shutdown()


if __name__ == "__main__":
    main()
