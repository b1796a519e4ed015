// Exact bytes for every input: the ordered maps (doctrine_field_owners,
// credentials) reach the body in the order given, in every form the API
// takes (JSON text, Map, [key, value] pairs, plain object), and a plain object
// whose order JavaScript has already changed (integer-like keys) is refused.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { baseInput, pkg } from './support.mjs';

const { buildSnapshotPayload, publish, PublishError, resolveResourceRouting } = pkg;

/** Field owners in an order a plain object cannot hold: integer-like keys after others. */
const OWNERS = [
  ['title', 'tracker'],
  ['2', 'spec-kitty'],
  ['status', 'spec-kitty'],
  ['10', 'tracker'],
  ['0', 'tracker'],
];
/** The body text those owners must appear as, in the order given. */
const OWNERS_JSON = '"doctrine_field_owners":{"title":"tracker","2":"spec-kitty","status":"spec-kitty","10":"tracker","0":"tracker"}';

/** The base input as JSON text with `doctrine_field_owners` (and `credentials`) written in the order given. */
function jsonText(owners, credentials) {
  const input = baseInput();
  const map = (pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  const parts = Object.keys(input).map((k) => {
    if (k === 'doctrine_field_owners') return `${JSON.stringify(k)}:${map(owners)}`;
    if (k === 'credentials' && credentials) return `${JSON.stringify(k)}:${map(credentials)}`;
    return `${JSON.stringify(k)}:${JSON.stringify(input[k])}`;
  });
  return `{${parts.join(',')}}`;
}

function withMaps(owners, credentials) {
  const input = baseInput();
  input.doctrine_field_owners = owners;
  if (credentials !== undefined) input.credentials = credentials;
  return input;
}

function refusal(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PublishError, `a PublishError, got ${e}`);
    return e;
  }
  assert.fail('expected a refusal');
}

describe('ordered maps keep the order given', () => {
  test('JSON text is used exactly as written', () => {
    const r = buildSnapshotPayload(jsonText(OWNERS));
    assert.ok(r.body.includes(OWNERS_JSON), r.body);
  });

  test('a Map and [key, value] pairs give the same bytes as the JSON text', () => {
    const expected = buildSnapshotPayload(jsonText(OWNERS));
    for (const [form, owners] of [
      ['Map', new Map(OWNERS)],
      ['pairs', OWNERS.map((p) => [...p])],
    ]) {
      const r = buildSnapshotPayload(withMaps(owners));
      assert.equal(r.body, expected.body, form);
      assert.equal(r.idempotencyKey, expected.idempotencyKey, form);
      assert.deepEqual(r.headers, expected.headers, form);
    }
  });

  test('a plain object with an integer-like key is refused, naming the field and the ways to keep the order', () => {
    for (const key of ['2', '0', '10', '4294967294']) {
      const e = refusal(() => buildSnapshotPayload(withMaps({ title: 'tracker', [key]: 'spec-kitty' })));
      assert.equal(e.kind, 'invalid-input');
      assert.ok(e.message.startsWith('doctrine_field_owners: '), e.message);
      assert.ok(e.message.includes(`"${key}"`), e.message);
      for (const way of ['Map', '[key, value] pairs', 'JSON text']) assert.ok(e.message.includes(way), e.message);
    }
  });

  test('keys that only look like numbers keep their place in a plain object', () => {
    // Not array indices: JavaScript keeps these in insertion order.
    const owners = { title: 'tracker', '01': 'a', '-1': 'b', '1.5': 'c', '4294967295': 'd', ' 2': 'e' };
    const r = buildSnapshotPayload(withMaps(owners));
    assert.ok(r.body.includes(`"doctrine_field_owners":${JSON.stringify(owners)}`), r.body);
  });

  test('credentials: an integer-like key in a plain object is refused; Map, pairs and text are accepted', () => {
    const creds = [['2', 'x-secret-value'], ['project_key', 'ACME'], ['access_token', 'tok-abcdef']];
    const e = refusal(() => buildSnapshotPayload(withMaps({}, Object.fromEntries(creds))));
    assert.equal(e.kind, 'invalid-input');
    assert.ok(e.message.startsWith('credentials: '), e.message);
    assert.ok(!e.message.includes('x-secret-value') && !e.message.includes('tok-abcdef'), 'no credential value in the message');
    const expected = buildSnapshotPayload(jsonText([], creds));
    for (const credentials of [new Map(creds), creds]) {
      const r = buildSnapshotPayload(withMaps({}, credentials));
      assert.equal(r.body, expected.body);
      assert.deepEqual(r.headers, expected.headers);
    }
    // Routing does not depend on order: a plain object is fine there.
    assert.deepEqual(resolveResourceRouting('jira', Object.fromEntries(creds)), { resourceType: 'jira_project', resourceId: 'ACME' });
    assert.deepEqual(resolveResourceRouting('jira', new Map(creds)), { resourceType: 'jira_project', resourceId: 'ACME' });
    assert.deepEqual(resolveResourceRouting('jira', creds), { resourceType: 'jira_project', resourceId: 'ACME' });
  });

  test('malformed pairs and Map entries are invalid-input naming the entry', () => {
    const cases = [
      [[['title', 'tracker'], ['lonely']], 'doctrine_field_owners[1]: expected a [key, value] pair'],
      [[['title', 'tracker'], 'title=tracker'], 'doctrine_field_owners[1]: expected a [key, value] pair, found a string'],
      [new Map([[2, 'tracker']]), 'doctrine_field_owners[0]: expected a string key, found a number'],
      [[['title', undefined]], 'doctrine_field_owners.title: expected a JSON value, found undefined'],
    ];
    for (const [owners, prefix] of cases) {
      const e = refusal(() => buildSnapshotPayload(withMaps(owners)));
      assert.equal(e.kind, 'invalid-input');
      assert.ok(e.message.startsWith(prefix), `${e.message} starts with ${prefix}`);
    }
    // A key given twice is the component's refusal, as in JSON text.
    const twice = refusal(() => buildSnapshotPayload(withMaps([['title', 'a'], ['title', 'b']])));
    assert.equal(twice.kind, 'invalid-input');
    assert.equal(twice.message, refusal(() => buildSnapshotPayload(jsonText([['title', 'a'], ['title', 'b']]))).message);
  });

  test('JSON text that is not well-formed Unicode or not JSON is refused', () => {
    assert.equal(refusal(() => buildSnapshotPayload('{"server_url": "\ud800"}')).kind, 'invalid-input');
    assert.equal(refusal(() => buildSnapshotPayload('{')).kind, 'invalid-input');
    assert.equal(refusal(() => buildSnapshotPayload('{}')).kind, 'invalid-input');
  });

  test('publish sends the bytes of the order given, for JSON text and a Map', async () => {
    const bodies = [];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"accepted":true}');
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${server.address().port}`;
      const text = jsonText(OWNERS).replace(/"server_url":"[^"]*"/, `"server_url":${JSON.stringify(url)}`);
      const input = withMaps(new Map(OWNERS));
      input.server_url = url;
      for (const given of [text, input]) {
        const result = await publish(given, { retries: 0 });
        assert.equal(result.status, 200);
      }
      await assert.rejects(publish({ ...input, doctrine_field_owners: Object.fromEntries(OWNERS) }, { retries: 0 }), (e) => e.kind === 'invalid-input');
      assert.equal(bodies.length, 2, 'the refused input sent nothing');
      for (const body of bodies) assert.ok(body.includes(OWNERS_JSON), body);
      assert.equal(bodies[0], bodies[1]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
