"""`python -m tracker_publish preview`: the command's `preview`, through this package.

Same output shape and exit codes as `tracker-publish preview`: the request as
JSON (`endpoint`, `headers` with the Authorization value masked unless
`--show-secrets`, `body`, `idempotency_key`), or `{"error": {"kind",
"message"}}` on standard output, a one-line message on standard error and
exit 2 for a refused input; exit 1 when the component itself fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, BinaryIO

from . import ComponentFailure, PublishError, PublishRequest, build_snapshot_payload

EXIT_REFUSED = 2
PROG = "python -m tracker_publish"


def request_json(r: PublishRequest, show_secrets: bool) -> dict[str, Any]:
    headers = [[k, v if show_secrets or k.lower() != "authorization" else "Bearer ***"] for k, v in r.headers]
    return {"endpoint": r.endpoint, "headers": headers, "body": r.body.decode("utf-8"), "idempotency_key": r.idempotency_key}


def error_json(e: PublishError) -> dict[str, Any]:
    return {"error": {"kind": e.kind, "message": e.message}}


def _refuse(e: PublishError) -> int:
    print(json.dumps(error_json(e), ensure_ascii=False, separators=(",", ":")))
    print(f"tracker-publish: refused ({e.kind}): {e.message}", file=sys.stderr)
    return EXIT_REFUSED


def _fail(e: Exception) -> int:
    print(f"tracker-publish: {e}", file=sys.stderr)
    return 1


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PublishError("invalid-input", f"{what}: not valid UTF-8 (at byte {e.start})") from None


def _lines(src: BinaryIO, show_secrets: bool, scheme: str) -> int:
    out = sys.stdout
    for n, raw in enumerate(src, 1):
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            answer = request_json(build_snapshot_payload(_text(line, f"line {n}"), idempotency=scheme), show_secrets)
        except PublishError as e:
            answer = error_json(e)
        try:
            out.write(json.dumps(answer, ensure_ascii=False, separators=(",", ":")) + "\n")
            out.flush()
        except BrokenPipeError:
            return 0
    return 0


def preview(args: argparse.Namespace) -> int:
    try:
        src: BinaryIO = open(args.input, "rb") if args.input else sys.stdin.buffer
    except OSError as e:
        return _refuse(PublishError("invalid-input", f"--input {args.input}: {e.strerror or e}"))
    try:
        with src:
            if args.jsonl:
                return _lines(src, args.show_secrets, args.idempotency)
            try:
                text = _text(src.read(), "input")
            except OSError as e:
                return _refuse(PublishError("invalid-input", f"input: {e.strerror or e}"))
            try:
                r = build_snapshot_payload(text, idempotency=args.idempotency)
            except PublishError as e:
                return _refuse(e)
            print(json.dumps(request_json(r, args.show_secrets), ensure_ascii=False, indent=2))
            return 0
    except PublishError as e:
        return _refuse(e)
    except ComponentFailure as e:
        return _fail(e)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description="The spec-kitty tracker snapshot publish request, computed by the tracker-publish component (wasmtime-py).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "preview",
        help="Print the request for a snapshot input given as JSON, without sending it.",
        description=(
            "Print the request for a snapshot input given as JSON (publish-contract.md section 1, as the `input` "
            'objects of the conformance vectors), without sending it. Output: {"endpoint", "headers": [[name, value], ...], '
            '"body", "idempotency_key"}. A refusal prints {"error": {"kind", "message"}} on standard output, a one-line '
            "message on standard error, and exits 2."
        ),
    )
    p.add_argument("--input", metavar="FILE", help="read the input from FILE instead of standard input")
    p.add_argument("--jsonl", action="store_true", help="one input per line in, one JSON line out per input line, in order; exit 0 once every line is answered")
    p.add_argument("--show-secrets", action="store_true", help='show the Authorization value instead of "Bearer ***"')
    p.add_argument("--idempotency", choices=["v1", "content"], default="v1", help="how the Idempotency-Key is derived (default v1)")
    p.set_defaults(run=preview)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
