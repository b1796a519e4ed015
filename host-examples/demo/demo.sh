#!/usr/bin/env bash
# make demo: the whole job on loopback, no set-up. A sample spec-kitty
# project (config, credentials, SQLite store) in a temporary directory, the
# embedded ingest server with one injected failure, a publish that is retried
# under the same key, the server's receipt, and a second publish recognised
# as a duplicate.
set -euo pipefail

bin=$(realpath "${1:-dist/tracker-publish}")
tmp=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. A sample spec-kitty project (in $tmp)"
store=$("$bin" sample-project --project "$tmp/project" --home "$tmp/home" --token demo-token-123)
echo "project:      $tmp/project/.kittify/config.yaml"
echo "credentials:  $tmp/home/.spec-kitty/credentials"
echo "tracker store: $store (3 Jira issues, 1 Linear issue, 2 mappings, a checkpoint)"

step "2. The ingest server, failing its first request with 503"
"$bin" serve --listen 127.0.0.1:0 --data "$tmp/server" --token demo-token-123 \
    --fail-first 1 --retry-after 0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -n1)
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { echo "the server did not start:"; cat "$tmp/serve.log"; exit 1; }
echo "tracker-publish serve: $url"

step "3. Preview of the request (--dry-run: nothing sent, token masked)"
(cd "$tmp/project" && HOME="$tmp/home" "$bin" publish --server-url "$url" --dry-run) |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("endpoint:", r["endpoint"]); [print("header:  ", n+":", v) for n,v in r["headers"]]; print("body:    ", len(r["body"].encode()), "bytes, starts", r["body"][:90]+"...")'

step "4. Publish: the first attempt gets 503, the retry has the same bytes and key"
(cd "$tmp/project" && HOME="$tmp/home" "$bin" publish --server-url "$url" --json)

step "5. Publish again: the server recognises the duplicate and replays its answer"
(cd "$tmp/project" && HOME="$tmp/home" "$bin" publish --server-url "$url" --json) |
    python3 -c 'import json,sys; r=json.load(sys.stdin); b=r["body"]; print(json.dumps({"status_code": r["status_code"], "duplicate": b.get("duplicate"), "idempotency_key": r["idempotency_key"]}, indent=2))'

step "6. What the server saw"
cat "$tmp/serve.log"

step "Done: the server is stopped and $tmp removed."
