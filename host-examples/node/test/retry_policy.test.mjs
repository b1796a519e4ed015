// The retry-policy table (tests/retry_policy.json) through the component in
// Node (the package's decideRetry, which publish follows), one subtest per row.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pkg, repoRoot } from './support.mjs';

const tablePath = join(repoRoot, 'tests', 'retry_policy.json');
/** The table held this many cases when this was written; fewer means some went missing. */
const MIN_CASES = 74;

if (!existsSync(tablePath)) throw new Error(`the retry-policy table is missing: ${tablePath}`);
const { cases } = JSON.parse(readFileSync(tablePath, 'utf8'));
if (!Array.isArray(cases) || cases.length < MIN_CASES) {
  throw new Error(`${tablePath}: ${cases?.length} cases, expected at least ${MIN_CASES}`);
}

describe('retry policy table', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = c.report;
      const got = pkg.decideRetry(
        {
          attempt: r.attempt,
          outcome: r.outcome,
          status: r.status,
          earlierUnanswered: r.earlier_unanswered,
          retryAfter: r.retry_after,
          nowUnixMs: r.now_unix_ms,
          random: r.random,
        },
        {
          maxAttempts: c.options.max_attempts,
          baseDelayMs: c.options.base_delay_ms,
          maxDelayMs: c.options.max_delay_ms,
        },
      );
      const expected = 'retry_in_ms' in c.expect ? { retryInMs: c.expect.retry_in_ms } : { stop: c.expect.stop };
      assert.deepEqual(got, expected);
    });
  }
});

test('a malformed report is invalid-input naming the field', () => {
  const options = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30000 };
  const report = { attempt: 1, outcome: 'status', status: 503, nowUnixMs: 0, random: 0 };
  assert.throws(() => pkg.decideRetry({ ...report, outcome: 'gone' }, options), { kind: 'invalid-input', message: /^report\.outcome:/ });
  assert.throws(() => pkg.decideRetry({ ...report, status: 70000 }, options), { kind: 'invalid-input', message: /^report\.status:/ });
  assert.throws(() => pkg.decideRetry(report, { ...options, baseDelayMs: -1 }), { kind: 'invalid-input', message: /^options\.baseDelayMs:/ });
  assert.deepEqual(pkg.decideRetry(report, options), { retryInMs: 250 });
});
