// Chromium via the wasm-bindgen build (dist/web): routing per call and
// buildSnapshotPayloadJson per snapshot, measured inside a headless page.
//
//   node bench/chromium.mjs INPUT.json [--iterations N]
//
// Prints one JSON object: {routing_ns, routing_p25_ns, routing_p75_ns,
// payload_ms, p25_ms, p75_ms, min_ms, max_ms, body_bytes}. Needs
// `make web-build` (dist/web) and /usr/bin/chromium.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(root, 'host-examples/web/package.json'));
const { chromium } = require('playwright-core');
const { serve } = await import(join(root, 'host-examples/web/serve.mjs'));

const args = process.argv.slice(2);
const input = args[0];
const at = args.indexOf('--iterations');
const iterations = at >= 0 ? Number(args[at + 1]) : 20;
if (!input || !(iterations > 0)) {
  console.error('usage: node bench/chromium.mjs INPUT.json [--iterations N]');
  process.exit(2);
}
const text = readFileSync(input, 'utf8');

const { server, url } = await serve(join(root, 'dist/web'), 0);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}/index.html`);
  const result = await page.evaluate(
    async ({ text, iterations }) => {
      const m = await import('/tracker_publish.js');
      await m.default();
      const q = (xs, p) => {
        const s = [...xs].sort((a, b) => a - b);
        return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
      };
      // Routing: batches of calls, ns per call per batch.
      const creds = { project_key: 'ACME', access_token: 'x' };
      const batch = 2000;
      for (let i = 0; i < batch; i++) m.resolveResourceRouting('jira', creds);
      const routing = [];
      for (let b = 0; b < 30; b++) {
        const t = performance.now();
        for (let i = 0; i < batch; i++) m.resolveResourceRouting('jira', creds);
        routing.push(((performance.now() - t) * 1e6) / batch);
      }
      // The payload, one call at a time (one warm-up).
      let body = m.buildSnapshotPayloadJson(text, 'v1').body.length;
      const times = [];
      for (let i = 0; i < iterations; i++) {
        const t = performance.now();
        body = m.buildSnapshotPayloadJson(text, 'v1').body.length;
        times.push(performance.now() - t);
      }
      return {
        routing_ns: q(routing, 0.5),
        routing_p25_ns: q(routing, 0.25),
        routing_p75_ns: q(routing, 0.75),
        payload_ms: q(times, 0.5),
        p25_ms: q(times, 0.25),
        p75_ms: q(times, 0.75),
        min_ms: Math.min(...times),
        max_ms: Math.max(...times),
        body_bytes: body,
      };
    },
    { text, iterations },
  );
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  server.close();
}
