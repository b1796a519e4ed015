// publish() against a Node http server on loopback (127.0.0.1), with injected
// failures: 503 then 200, 429 with Retry-After, 400 final, dropped connections,
// a refused connection, timeouts. Every attempt must carry the same
// Idempotency-Key and the same body bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, describe, test } from 'node:test';
import { baseInput, pkg } from './support.mjs';

const { buildSnapshotPayload, publish, PublishError } = pkg;
const PATH = '/api/v1/connectors/trackers/snapshots/';

/**
 * A loopback server that answers request n with `script[n]` (a function of
 * (req, res, body)), and 200 with a JSON receipt after the script runs out.
 * Records every request: method, url, raw headers, body bytes, arrival time.
 */
async function serve(script = []) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const n = requests.length;
      requests.push({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, headers: req.headers, body, at: performance.now() });
      const answer = script[n] ?? ((_, r) => json(r, 200, { accepted: true, n }));
      answer(req, res, body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const input = baseInput();
  input.server_url = `http://127.0.0.1:${server.address().port}/`;
  return {
    input,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function json(res, status, value, headers = {}) {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(JSON.stringify(value));
}

const status = (code, headers = {}) => (_, res) => json(res, code, { type: 'about:blank', status: code }, headers);
/** Destroys the connection without an answer. */
const drop = (req) => req.socket.destroy();
/** Never answers (until the server closes). */
const hang = () => {};

/** Fast retries for tests. */
const fast = { backoffMs: 5, maxDelayMs: 2000, timeoutMs: 5000 };

/** The three contract headers as they arrived, in arrival order. */
function contractHeaders(r) {
  const pairs = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) pairs.push([r.rawHeaders[i], r.rawHeaders[i + 1]]);
  return pairs.filter(([name]) => ['content-type', 'idempotency-key', 'authorization'].includes(name.toLowerCase()));
}

/** Every request carried exactly the request the component computed. */
function assertSameRequest(requests, input, options = {}) {
  const expected = buildSnapshotPayload(input, options);
  assert.ok(requests.length > 0);
  for (const r of requests) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, PATH);
    assert.deepEqual(r.body, Buffer.from(expected.bodyBytes), 'the same body bytes on every attempt');
    assert.deepEqual(contractHeaders(r), expected.headers, 'the same headers, in wire order, on every attempt');
  }
  return expected;
}

const servers = [];
async function server(script) {
  const s = await serve(script);
  servers.push(s);
  return s;
}
after(() => Promise.all(servers.map((s) => s.close())));

describe('publish over loopback http', () => {
  test('200 at once', async () => {
    const s = await server();
    const result = await publish(s.input, fast);
    const expected = assertSameRequest(s.requests, s.input);
    assert.deepEqual(result, {
      endpoint: `${s.input.server_url.replace(/\/$/, '')}${PATH}`,
      status: 200,
      ok: true,
      body: { accepted: true, n: 0 },
      idempotencyKey: expected.idempotencyKey,
      attempts: 1,
    });
  });

  test('503 then 200: retried under the same key with identical bytes', async () => {
    const s = await server([status(503)]);
    const seen = [];
    const result = await publish(s.input, { ...fast, onAttempt: (info) => seen.push(info) });
    assert.equal(result.status, 200);
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 2);
    assert.equal(s.requests.length, 2);
    const expected = assertSameRequest(s.requests, s.input);
    assert.equal(s.requests[0].headers['idempotency-key'], expected.idempotencyKey);
    assert.equal(s.requests[1].headers['idempotency-key'], expected.idempotencyKey);
    assert.equal(result.idempotencyKey, expected.idempotencyKey);
    assert.equal(seen.length, 2);
    assert.deepEqual({ ...seen[0], retryInMs: typeof seen[0].retryInMs }, { attempt: 1, maxAttempts: 4, status: 503, error: null, retryInMs: 'number' });
    assert.deepEqual(seen[1], { attempt: 2, maxAttempts: 4, status: 200, error: null, retryInMs: null });
  });

  test('the content scheme: the key is the SHA-256 of the bytes sent', async () => {
    const s = await server([status(502)]);
    const result = await publish(s.input, { ...fast, idempotency: 'content' });
    assert.equal(result.attempts, 2);
    assertSameRequest(s.requests, s.input, { idempotency: 'content' });
    assert.equal(result.idempotencyKey, createHash('sha256').update(s.requests[1].body).digest('hex'));
  });

  test('429 with Retry-After: waits at least that long', async () => {
    const s = await server([status(429, { 'retry-after': '1' })]);
    const result = await publish(s.input, fast);
    assert.equal(result.status, 200);
    assert.equal(result.attempts, 2);
    const waited = s.requests[1].at - s.requests[0].at;
    assert.ok(waited >= 950, `waited ${waited} ms, Retry-After asked for 1000`);
    assertSameRequest(s.requests, s.input);
  });

  test('Retry-After as an HTTP date, and capped at maxDelayMs', async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    const s = await server([status(503, { 'retry-after': later }), status(429, { 'retry-after': '3600' })]);
    const seen = [];
    const t0 = performance.now();
    const result = await publish(s.input, { ...fast, maxDelayMs: 100, onAttempt: (i) => seen.push(i.retryInMs) });
    assert.equal(result.attempts, 3);
    assert.equal(result.status, 200);
    assert.deepEqual(seen, [100, 100, null]);
    assert.ok(performance.now() - t0 < 3000);
  });

  test('409 after our own attempt got no answer is waited out (the retry policy)', async () => {
    const s = await server([drop, status(409), status(409)]);
    const seen = [];
    const result = await publish(s.input, { ...fast, onAttempt: (i) => seen.push([i.status, i.retryInMs === null]) });
    assert.equal(result.status, 200);
    assert.equal(result.attempts, 4);
    assert.deepEqual(seen, [[null, false], [409, false], [409, false], [200, true]]);
    assertSameRequest(s.requests, s.input);
  });

  test('400 is final: one attempt, the problem body parsed', async () => {
    const s = await server([status(400)]);
    const result = await publish(s.input, fast);
    assert.equal(s.requests.length, 1);
    assert.equal(result.attempts, 1);
    assert.equal(result.status, 400);
    assert.equal(result.ok, false);
    assert.deepEqual(result.body, { type: 'about:blank', status: 400 });
  });

  for (const code of [401, 404, 409, 422]) {
    test(`${code} is final`, async () => {
      const s = await server([status(code)]);
      const result = await publish(s.input, fast);
      assert.deepEqual([result.status, result.ok, result.attempts, s.requests.length], [code, false, 1, 1]);
    });
  }

  for (const code of [408, 425, 500, 504]) {
    test(`${code} is retried`, async () => {
      const s = await server([status(code)]);
      const result = await publish(s.input, fast);
      assert.deepEqual([result.status, result.attempts, s.requests.length], [200, 2, 2]);
    });
  }

  test('5xx on every attempt: resolves with the last answer after retries + 1 attempts', async () => {
    const s = await server([status(500), status(503), status(500)]);
    const result = await publish(s.input, { ...fast, retries: 2 });
    assert.deepEqual([result.status, result.ok, result.attempts, s.requests.length], [500, false, 3, 3]);
    assertSameRequest(s.requests, s.input);
  });

  test('retries: 0 makes one attempt', async () => {
    const s = await server([status(503)]);
    const result = await publish(s.input, { ...fast, retries: 0 });
    assert.deepEqual([result.status, result.attempts, s.requests.length], [503, 1, 1]);
  });

  test('a redirect is not followed (as the CLI)', async () => {
    const s = await server([(_, res) => (res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' }), res.end())]);
    const result = await publish(s.input, fast);
    assert.deepEqual([result.status, result.ok, result.attempts, s.requests.length], [307, false, 1, 1]);
  });

  test('a text answer is returned as text', async () => {
    const s = await server([(_, res) => (res.writeHead(202, { 'content-type': 'text/plain' }), res.end('queued'))]);
    const result = await publish(s.input, fast);
    assert.deepEqual([result.status, result.ok, result.body], [202, true, 'queued']);
  });

  test('a dropped connection is retried', async () => {
    const s = await server([drop, drop]);
    const seen = [];
    const result = await publish(s.input, { ...fast, onAttempt: (i) => seen.push(i) });
    assert.equal(result.status, 200);
    assert.equal(result.attempts, 3);
    assert.equal(s.requests.length, 3);
    assertSameRequest(s.requests, s.input);
    assert.equal(seen[0].status, null);
    assert.equal(typeof seen[0].error, 'string');
  });

  test('a closed server: network-error after every attempt, the token not in the message', async () => {
    const s = await serve();
    const input = { ...s.input, auth_token: 'closed-server-token' };
    await s.close();
    const seen = [];
    await assert.rejects(publish(input, { ...fast, retries: 2, onAttempt: (i) => seen.push(i) }), (e) => {
      assert.ok(e instanceof PublishError);
      assert.equal(e.kind, 'network-error');
      assert.equal(e.attempts, 3);
      assert.ok(e.message.includes(input.server_url.replace(/\/$/, '')), e.message);
      assert.ok(!e.message.includes('closed-server-token'));
      return true;
    });
    assert.deepEqual(seen.map((i) => [i.attempt, i.status, typeof i.error, i.retryInMs === null]), [
      [1, null, 'string', false],
      [2, null, 'string', false],
      [3, null, 'string', true],
    ]);
  });

  test('a timeout is retried', async () => {
    const s = await server([hang]);
    const t0 = performance.now();
    const result = await publish(s.input, { ...fast, timeoutMs: 300 });
    assert.equal(result.status, 200);
    assert.equal(result.attempts, 2);
    assert.ok(performance.now() - t0 >= 290);
    assertSameRequest(s.requests, s.input);
  });

  test('a server slower than timeoutMs on every attempt: timeout', async () => {
    const s = await server([hang, hang]);
    await assert.rejects(publish(s.input, { ...fast, timeoutMs: 150, retries: 1 }), (e) => {
      assert.ok(e instanceof PublishError);
      assert.equal(e.kind, 'timeout');
      assert.equal(e.attempts, 2);
      assert.ok(!e.message.includes(s.input.auth_token));
      return true;
    });
    assert.equal(s.requests.length, 2);
  });

  test('an abort signal stops the retries', async () => {
    const s = await server([status(503), status(503), status(503)]);
    const controller = new AbortController();
    const reason = new Error('user stopped');
    const promise = publish(s.input, { ...fast, backoffMs: 10_000, maxDelayMs: 10_000, signal: controller.signal });
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(reason);
    await assert.rejects(promise, (e) => e === reason);
    assert.equal(s.requests.length, 1);
  });
});

describe('publish with an injected fetch', () => {
  test('fetch gets the exact request, and its answers drive the retries', async () => {
    const input = baseInput();
    const expected = buildSnapshotPayload(input);
    const calls = [];
    const answers = [
      () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })),
      () => Promise.resolve(new Response('{"busy":true}', { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '0' } })),
      () => Promise.resolve(new Response('{"id":"s-1"}', { status: 201, headers: { 'content-type': 'application/json' } })),
    ];
    const fetch = (url, init) => {
      calls.push({ url, init });
      return answers[calls.length - 1]();
    };
    const errors = [];
    const result = await publish(input, { fetch, backoffMs: 1, onAttempt: (i) => errors.push(i.error) });
    assert.deepEqual(result, { endpoint: expected.endpoint, status: 201, ok: true, body: { id: 's-1' }, idempotencyKey: expected.idempotencyKey, attempts: 3 });
    assert.equal(calls.length, 3);
    for (const { url, init } of calls) {
      assert.equal(url, expected.endpoint);
      assert.equal(init.method, 'POST');
      assert.deepEqual(init.headers, expected.headers);
      assert.deepEqual(init.body, expected.bodyBytes);
      assert.equal(init.redirect, 'manual');
      assert.equal(typeof init.signal.aborted, 'boolean');
    }
    assert.deepEqual(errors, ['fetch failed: ECONNREFUSED', null, null]);
  });

  test('a fetch that ignores the abort signal still times out', async () => {
    const fetch = () => new Promise(() => {});
    await assert.rejects(publish(baseInput(), { fetch, retries: 1, timeoutMs: 50, backoffMs: 1 }), { name: 'PublishError', kind: 'timeout', attempts: 2 });
  });

  test('an already aborted signal sends nothing', async () => {
    let called = 0;
    const fetch = async () => (called++, new Response('{}', { status: 200 }));
    const reason = new Error('cancelled before start');
    await assert.rejects(publish(baseInput(), { fetch, signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(called, 0);
  });

  test('a token in an error from fetch is masked', async () => {
    const input = baseInput();
    const fetch = () => Promise.reject(new Error(`refused Bearer ${input.auth_token} at the proxy`));
    await assert.rejects(publish(input, { fetch, retries: 0 }), (e) => {
      assert.equal(e.kind, 'network-error');
      assert.ok(!e.message.includes(input.auth_token), e.message);
      assert.ok(e.message.includes('Bearer ***'), e.message);
      return true;
    });
  });
});
