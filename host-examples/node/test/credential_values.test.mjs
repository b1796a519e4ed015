// The credential-values table (tests/credential_values.json): one rule for
// every host, the core's. A credential value that is not a string is refused
// as invalid-input naming the key (never converted, null never "missing"),
// from a plain object and from JSON text; strings are used as given.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pkg, repoRoot } from './support.mjs';

const { buildSnapshotPayload, PublishError } = pkg;
const tablePath = join(repoRoot, 'tests', 'credential_values.json');
/** The table held this many cases when this was written; fewer means some went missing. */
const MIN_CASES = 15;

if (!existsSync(tablePath)) throw new Error(`the credential-values table is missing: ${tablePath}`);
const { cases } = JSON.parse(readFileSync(tablePath, 'utf8'));
if (!Array.isArray(cases) || cases.length < MIN_CASES) {
  throw new Error(`${tablePath}: ${cases?.length} cases, expected at least ${MIN_CASES}`);
}

describe('credential values table', () => {
  let ran = 0;
  for (const c of cases) {
    for (const form of ['object', 'JSON text']) {
      test(`${c.name} (${form})`, () => {
        const input = form === 'object' ? c.input : JSON.stringify(c.input);
        const e = c.expected;
        if (e.error !== undefined) {
          assert.throws(
            () => buildSnapshotPayload(input),
            (err) => {
              assert.ok(err instanceof PublishError, `a PublishError, got ${err}`);
              assert.equal(err.kind, e.error);
              assert.ok(err.message.startsWith(`${e.field}: `), `${err.message} names ${e.field}`);
              return true;
            },
          );
        } else {
          const r = buildSnapshotPayload(input);
          const body = JSON.parse(r.body);
          const auth = r.headers.find(([n]) => n === 'Authorization')?.[1] ?? null;
          assert.deepEqual(
            [body.external_resource_type, body.external_resource_id, auth],
            [e.external_resource_type, e.external_resource_id, e.authorization],
          );
        }
        ran++;
      });
    }
  }
  test('every case ran in both forms', () => assert.equal(ran, cases.length * 2));
});
