// Every case of ../shared/conformance/vectors.json through the package, each a named subtest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { loadVectors, MIN_VECTORS, pkg, secretsOf, vectorsPath } from './support.mjs';

const { buildSnapshotPayload, PublishError } = pkg;

test(`shared vectors (${vectorsPath})`, async (t) => {
  const cases = loadVectors();
  assert.ok(cases.length >= MIN_VECTORS, `${cases.length} cases, expected at least ${MIN_VECTORS}`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  let ran = 0;
  for (const c of cases) {
    await t.test(c.name, () => {
      const { input, expected } = c;
      assert.ok(expected && typeof expected === 'object', 'the case has an expected result');
      if (expected.error !== undefined) {
        assert.throws(
          () => buildSnapshotPayload(input),
          (e) => {
            assert.ok(e instanceof PublishError, `a PublishError, got ${e}`);
            assert.equal(e.kind, expected.error);
            assert.ok(e.message.length > 0);
            for (const s of secretsOf(input)) assert.ok(!e.message.includes(s), 'the message holds no secret');
            return true;
          },
        );
        // The same input as JSON text is refused the same way.
        assert.throws(() => buildSnapshotPayload(JSON.stringify(input)), (e) => e instanceof PublishError && e.kind === expected.error);
      } else {
        const r = buildSnapshotPayload(input);
        assert.equal(r.endpoint, expected.endpoint);
        assert.deepEqual(r.headers, expected.headers);
        assert.equal(r.body, expected.body);
        assert.ok(r.bodyBytes instanceof Uint8Array);
        assert.deepEqual(Buffer.from(r.bodyBytes), Buffer.from(expected.body, 'utf8'), 'bodyBytes are the body, UTF-8');
        assert.equal(r.idempotencyKey, expected.idempotency_key);
        // The same input as JSON text: the same request.
        const t = buildSnapshotPayload(JSON.stringify(input));
        assert.equal(t.body, expected.body);
        assert.deepEqual(t.headers, expected.headers);
        assert.equal(t.idempotencyKey, expected.idempotency_key);
        // The same request with the content scheme: the key is the SHA-256 of the same bytes.
        const c2 = buildSnapshotPayload(input, { idempotency: 'content' });
        assert.equal(c2.body, expected.body);
        const sha = createHash('sha256').update(c2.bodyBytes).digest('hex');
        assert.equal(c2.idempotencyKey, sha);
        assert.deepEqual(c2.headers[1], ['Idempotency-Key', sha]);
      }
      ran++;
    });
  }
  assert.equal(ran, cases.length, 'every case ran');
});
