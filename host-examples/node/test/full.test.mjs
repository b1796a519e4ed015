// The full component's entries (store and receive interfaces) from JS:
// verifySnapshot for a receiving side written in JS, storeScope,
// storedTimestamp, buildSnapshotPayloadFromStore and `framed`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { baseInput, loadVectors, pkg } from './support.mjs';

const { buildSnapshotPayload, buildSnapshotPayloadFromStore, framed, PublishError, resolveResourceRouting, storeScope, storedTimestamp, verifySnapshot } = pkg;

function refusal(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PublishError, `a PublishError, got ${e}`);
    return e;
  }
  assert.fail('expected a refusal');
}

describe('verifySnapshot', () => {
  test('accepts every request the shared vectors compute, with either scheme', async (t) => {
    let ran = 0;
    const cases = loadVectors().filter((c) => c.expected.error === undefined);
    for (const c of cases) {
      await t.test(c.name, () => {
        for (const idempotency of ['v1', 'content']) {
          const r = buildSnapshotPayload(c.input, { idempotency });
          const receipt = verifySnapshot(r.bodyBytes, r.idempotencyKey);
          const body = JSON.parse(r.body);
          assert.equal(receipt.scheme, idempotency);
          assert.equal(receipt.provider, body.provider);
          assert.equal(receipt.workspace, body.workspace);
          assert.equal(receipt.externalResourceType, body.external_resource_type);
          assert.equal(receipt.externalResourceId, body.external_resource_id);
          assert.equal(receipt.issues, body.issues.length);
          assert.equal(receipt.mappings, body.mappings.length);
          const routing = body.external_resource_type === null ? [] : [body.external_resource_type, body.external_resource_id];
          assert.deepEqual(receipt.routingKey, [body.provider, body.workspace, ...routing]);
          // The body as a string is read as its UTF-8 bytes.
          assert.deepEqual(verifySnapshot(r.body, r.idempotencyKey), receipt);
        }
        ran++;
      });
    }
    assert.equal(ran, cases.length, 'every case ran');
  });

  test('refuses a wrong key, a changed body and bad arguments', () => {
    const r = buildSnapshotPayload(baseInput());
    const wrongKey = refusal(() => verifySnapshot(r.bodyBytes, '0'.repeat(64)));
    assert.equal(wrongKey.kind, 'invalid-input');
    assert.match(wrongKey.message, /Idempotency-Key/);
    const spaced = Buffer.from(r.body.replace('{"provider"', '{ "provider"'));
    const changed = refusal(() => verifySnapshot(spaced, r.idempotencyKey));
    assert.equal(changed.kind, 'invalid-input');
    assert.equal(refusal(() => verifySnapshot(42, r.idempotencyKey)).message, 'body: expected a Uint8Array or a string, found a number');
    assert.equal(refusal(() => verifySnapshot(r.body, null)).message, 'idempotencyKey: expected a string, found null');
    // A trap-free refusal leaves the component usable.
    assert.equal(verifySnapshot(r.bodyBytes, r.idempotencyKey).scheme, 'v1');
  });
});

describe('store', () => {
  test('storeScope: the scope is the first 16 hex characters of the SHA-256 of the identity', () => {
    for (const credentials of [{ project_key: 'ACME' }, new Map([['project_key', 'ACME']]), [['project_key', 'ACME']]]) {
      const s = storeScope(' Jira ', 'acme.atlassian.net', credentials);
      assert.equal(s.scope, createHash('sha256').update(s.identity).digest('hex').slice(0, 16));
      assert.ok(s.identity.startsWith('jira|acme.atlassian.net|'), s.identity);
    }
    assert.equal(refusal(() => storeScope('jira', 'w', { project_key: 1 })).message, 'credentials.project_key: expected a string, found a number');
  });

  test('storedTimestamp: as Python 3.11 re-writes it, null when refused', () => {
    assert.equal(storedTimestamp('2024-05-01T10:00:00Z'), '2024-05-01T10:00:00+00:00');
    assert.equal(storedTimestamp('2024-05-01 10:00'), '2024-05-01T10:00:00');
    assert.equal(storedTimestamp('not a date'), null);
    assert.equal(storedTimestamp(null), null);
    assert.equal(refusal(() => storedTimestamp(7)).kind, 'invalid-input');
  });

  test('buildSnapshotPayloadFromStore: stored rows give the request of the same issues', () => {
    const input = baseInput();
    const rows = input.issues.map((issue) => ({ identity: `${issue.ref.system}:${issue.ref.id}`, payload: JSON.stringify(issue) }));
    const expected = buildSnapshotPayload(input);
    const fromStore = buildSnapshotPayloadFromStore({ ...input, issues: [] }, rows);
    assert.equal(fromStore.body, expected.body);
    assert.equal(fromStore.idempotencyKey, expected.idempotencyKey);
    assert.deepEqual(fromStore.headers, expected.headers);
    const bad = refusal(() => buildSnapshotPayloadFromStore({ ...input, issues: [] }, [{ identity: 'jira:broken', payload: '{"ref": 7}' }]));
    assert.equal(bad.kind, 'invalid-store-row');
    assert.match(bad.message, /jira:broken/);
    assert.match(refusal(() => buildSnapshotPayloadFromStore({ ...input, issues: [{}] }, rows)).message, /^issues: expected \[\]/);
    assert.equal(refusal(() => buildSnapshotPayloadFromStore({ ...input, issues: [], extra: 1 }, rows)).message, 'extra: unknown field');
  });
});

describe('framed', () => {
  test('every shared vector: the frame holds exactly the typed result', async (t) => {
    let ran = 0;
    for (const c of loadVectors()) {
      await t.test(c.name, () => {
        const text = JSON.stringify(c.input);
        for (const idempotency of ['v1', 'content']) {
          const frame = framed.buildSnapshotPayloadFramed(idempotency === 'v1' ? text : `${idempotency}\n${text}`);
          let want;
          try {
            const r = buildSnapshotPayload(text, { idempotency });
            want = ['ok', r.endpoint, r.idempotencyKey, String(r.headers.length), ...r.headers.flat(), r.body].join('\n');
          } catch (e) {
            assert.ok(e instanceof PublishError);
            want = `error\n${e.kind}\n${e.message}`;
          }
          assert.equal(frame, want);
        }
        ran += 1;
      });
    }
    assert.equal(ran, loadVectors().length);
  });

  test('routing: the same as resolveResourceRouting, credential values kept whole', () => {
    const credentials = { 2: 'x', project_key: ' A\nB ', team_id: 't' };
    const text = '{"2":"x","project_key":" A\\nB ","team_id":"t"}';
    for (const provider of ['jira', 'linear', 'Jira', '']) {
      const r = resolveResourceRouting(provider, new Map(Object.entries(JSON.parse(text))));
      const want = r === null ? 'none' : `some\n${r.resourceType}\n${r.resourceId}`;
      assert.equal(framed.resolveResourceRoutingFramed(`${text}\n${provider}`), want, provider);
    }
    assert.equal(framed.resolveResourceRoutingFramed('{"project_key":1}\njira'), 'error\ninvalid-input\ncredentials.project_key: expected a string, found a number');
    assert.equal(refusal(() => framed.resolveResourceRoutingFramed(credentials)).message, 'request: expected a string, found an object');
    assert.ok(framed.buildSnapshotPayloadFramed('v2\n{}').startsWith('error\ninvalid-input\ninput: '));
  });
});
