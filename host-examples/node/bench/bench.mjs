#!/usr/bin/env node
// Benchmarks the Node package (dist/node; `make node` builds it):
//
//   python3 bench/gen_snapshot.py 10000 > /tmp/x.json
//   node host-examples/node/bench/bench.mjs /tmp/x.json [--iterations N]
//   python3 bench/cli_baseline.py /tmp/x.json          # the CLI's Python way, to compare
//
// Prints one JSON object:
//   routing_us       one resolveResourceRouting call (Jira credentials), the
//                    median of 200,000 calls timed one by one;
//   routing_mean_us  the same calls timed in batches of 10,000 (no timer cost);
//   payload_ms       buildSnapshotPayload on the input file (median; p25_ms,
//                    p75_ms, min_ms, max_ms
//                    over the iterations), as cli_baseline.py times the CLI:
//                    reading and parsing the file is not timed;
//   stringify_ms     of which JSON.stringify of the input (median);
//   payload_json_ms  build-snapshot-payload-json through the jco bindings
//                    alone, on the file's text (what wasmtime's
//                    payload_json_ms measures), with _p25_ms and _p75_ms.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { buildSnapshotPayload, resolveResourceRouting } = await import(
  pathToFileURL(join(here, '..', '..', '..', 'dist', 'node', 'index.js')).href
);

// The jco bindings themselves, for the component call alone (no JS API around it).
const { instantiate } = await import(
  pathToFileURL(join(here, '..', '..', '..', 'dist', 'node', 'gen', 'tracker_publish.js')).href
);
const core = new WebAssembly.Module(
  readFileSync(join(here, '..', '..', '..', 'dist', 'node', 'gen', 'tracker_publish.core.wasm')),
);
const raw = instantiate(() => core, {}).publish;

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--'));
const at = args.indexOf('--iterations');
const iterations = at >= 0 ? Number(args[at + 1]) : 20;
if (!path || !(iterations > 0)) {
  console.error('usage: node bench/bench.mjs INPUT.json [--iterations N]');
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.round((s.length - 1) * q)];
};
const round = (x, digits) => Number(x.toFixed(digits));

// ---- resolveResourceRouting ------------------------------------------------
const credentials = { base_url: 'https://acme.atlassian.net', email: 'a@b.com', api_token: 'tok', project_key: ' ACME ' };
for (let i = 0; i < 20_000; i++) resolveResourceRouting('jira', credentials); // warm up
const single = new Float64Array(200_000);
let sink = 0;
for (let i = 0; i < single.length; i++) {
  const t0 = process.hrtime.bigint();
  sink += resolveResourceRouting('jira', credentials).resourceId.length;
  single[i] = Number(process.hrtime.bigint() - t0) / 1000;
}
const batches = [];
for (let b = 0; b < 20; b++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) sink += resolveResourceRouting('jira', credentials).resourceId.length;
  batches.push(Number(process.hrtime.bigint() - t0) / 1000 / 10_000);
}

// ---- buildSnapshotPayload --------------------------------------------------
const input = JSON.parse(readFileSync(path, 'utf8'));
let bodyBytes = 0;
for (let i = 0; i < 3; i++) bodyBytes = buildSnapshotPayload(input).bodyBytes.length; // warm up
const payload = [];
const stringify = [];
const text = readFileSync(path, 'utf8');
const options = { idempotency: 'v1' };
for (let i = 0; i < 3; i++) sink += raw.buildSnapshotPayloadJson(text, options).body.length; // warm up
const json = [];
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  sink += raw.buildSnapshotPayloadJson(text, options).body.length;
  json.push(performance.now() - t0);
}
for (let i = 0; i < iterations; i++) {
  let t0 = performance.now();
  sink += JSON.stringify(input).length;
  stringify.push(performance.now() - t0);
  t0 = performance.now();
  sink += buildSnapshotPayload(input).body.length;
  payload.push(performance.now() - t0);
}

console.log(
  JSON.stringify({
    node: process.version,
    routing_us: round(median(single), 3),
    routing_mean_us: round(median(batches), 3),
    routing_mean_p25_us: round(quantile(batches, 0.25), 3),
    routing_mean_p75_us: round(quantile(batches, 0.75), 3),
    issues: input.issues.length,
    body_bytes: bodyBytes,
    payload_ms: round(median(payload), 3),
    p25_ms: round(quantile(payload, 0.25), 3),
    p75_ms: round(quantile(payload, 0.75), 3),
    min_ms: round(Math.min(...payload), 3),
    max_ms: round(Math.max(...payload), 3),
    stringify_ms: round(median(stringify), 2),
    payload_json_ms: round(median(json), 3),
    payload_json_p25_ms: round(quantile(json, 0.25), 3),
    payload_json_p75_ms: round(quantile(json, 0.75), 3),
    iterations,
    sink: sink > 0,
  }),
);
