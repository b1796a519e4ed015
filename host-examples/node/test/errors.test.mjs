// Refusals and error shapes: PublishError, kinds, messages without secrets,
// JavaScript values JSON cannot carry, and the component's own typed errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseInput, pkg } from './support.mjs';

const { buildSnapshotPayload, normalizeProvider, resolveResourceRouting, publish, PublishError } = pkg;

/** Asserts that f throws a PublishError of `kind` whose message starts with `prefix` and holds none of `secrets`. */
function refuses(f, kind, prefix, secrets = []) {
  let thrown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof PublishError, `expected a PublishError, got ${thrown}`);
  assert.ok(thrown instanceof Error);
  assert.equal(thrown.name, 'PublishError');
  assert.equal(thrown.kind, kind, thrown.message);
  if (prefix !== undefined) assert.ok(thrown.message.startsWith(prefix), `message ${JSON.stringify(thrown.message)} starts with ${JSON.stringify(prefix)}`);
  for (const s of secrets) assert.ok(!thrown.message.includes(s), `message ${JSON.stringify(thrown.message)} holds a secret`);
  return thrown;
}

/** The base input with `edit` applied. */
function withInput(edit) {
  const input = baseInput();
  edit(input);
  return input;
}

describe('PublishError', () => {
  test('is an exported Error subclass with kind, name and message', () => {
    const e = new PublishError('too-large', 'issues: too many');
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'PublishError');
    assert.equal(e.kind, 'too-large');
    assert.equal(e.message, 'issues: too many');
    assert.match(String(e), /^PublishError: issues: too many$/);
  });

  test('every contract refusal arrives with its kebab-case kind', () => {
    refuses(() => buildSnapshotPayload(withInput((i) => (i.provider = ' \u3000 '))), 'not-configured', 'provider:');
    refuses(() => buildSnapshotPayload(withInput((i) => (i.workspace = ''))), 'not-configured', 'workspace:');
    refuses(() => buildSnapshotPayload(withInput((i) => (i.server_url = 'file:///etc'))), 'invalid-server-url', 'server_url:');
    refuses(() => buildSnapshotPayload(withInput((i) => (i.server_url = 'https://'))), 'invalid-server-url', 'server_url:');
    refuses(() => buildSnapshotPayload(withInput((i) => (i.auth_token = 'tab\there'))), 'invalid-auth-token', 'auth_token:');
    refuses(() => buildSnapshotPayload(withInput((i) => (i.issues = 'none'))), 'invalid-input', 'issues:');
    const many = Object.fromEntries(Array.from({ length: 10_001 }, (_, n) => [`k${n}`, 'v']));
    refuses(() => buildSnapshotPayload(withInput((i) => (i.credentials = many))), 'too-large', 'credentials');
  });

  test('messages never contain the token or the URL password', () => {
    const secrets = ['s3cr3t-T0KEN-\u00e9', 'abc\r\nX-Evil: 1', 'padded-token '];
    for (const token of secrets) {
      refuses(() => buildSnapshotPayload(withInput((i) => (i.auth_token = token))), 'invalid-auth-token', 'auth_token:', [token.trim()]);
    }
    for (const key of ['access_token', 'token']) {
      const token = 'cr\u00e9dential-token-value';
      refuses(
        () => buildSnapshotPayload(withInput((i) => ((i.auth_token = null), (i.credentials[key] = token)))),
        'invalid-auth-token',
        undefined,
        [token],
      );
    }
    refuses(
      () => buildSnapshotPayload(withInput((i) => (i.server_url = 'https://alice:hunter2-pw@example.com'))),
      'invalid-server-url',
      'server_url:',
      ['hunter2-pw', 'alice:hunter2'],
    );
  });

  test('the component keeps working after refusals', () => {
    for (let n = 0; n < 200; n++) {
      assert.throws(() => buildSnapshotPayload(withInput((i) => (i.provider = ''))), PublishError);
    }
    assert.equal(buildSnapshotPayload(baseInput()).endpoint, 'https://example.com/api/v1/connectors/trackers/snapshots/');
  });
});

describe('the component names the field in its own errors', () => {
  const cases = [
    ['a wrong type deep inside', (i) => (i.issues = [{ ref: { id: 5 } }]), 'issues[0].ref.id: expected a string, found a number'],
    ['a missing field', (i) => delete i.server_url, 'server_url: missing field'],
    ['an unknown field', (i) => (i.extra = 1), 'extra: unknown field'],
    ['a priority with a fraction', (i) => (i.issues = [{ ...issue(), priority: 1.5 }]), 'issues[0].priority:'],
    ['a credential that is not a string', (i) => (i.credentials.project_key = 7), 'credentials.project_key:'],
    ['a lone surrogate', (i) => (i.workspace = 'a\ud800b'), 'workspace:'],
  ];
  for (const [name, edit, message] of cases) {
    test(name, () => {
      const e = refuses(() => buildSnapshotPayload(withInput(edit)), 'invalid-input', message.replace(/:.*$/, ':'));
      assert.ok(e.message.startsWith(message), e.message);
    });
  }
});

function issue() {
  return {
    ref: { system: 'jira', workspace: 'acme.atlassian.net', id: '1', key: 'ACME-1', url: null },
    title: 't',
    body: null,
    status: 'todo',
    issue_type: 'task',
    priority: 2,
    assignees: [],
    labels: [],
    updated_at: null,
  };
}

describe('JavaScript values JSON.stringify would change are invalid-input naming the field', () => {
  const cases = [
    ['an undefined field', (i) => (i.auth_token = undefined), 'auth_token: expected a JSON value, found undefined'],
    ['an undefined credential (would be dropped)', (i) => (i.credentials.project_key = undefined), 'credentials.project_key:'],
    ['a hole in an array (would be null)', (i) => (i.issues = [issue(), , issue()]), 'issues[1]:'], // eslint-disable-line no-sparse-arrays
    ['a BigInt priority (would throw)', (i) => (i.issues = [{ ...issue(), priority: 2n }]), 'issues[0].priority: expected a JSON value, found a bigint'],
    ['NaN (would be null)', (i) => (i.issues = [{ ...issue(), priority: NaN }]), 'issues[0].priority: expected a JSON value, found NaN'],
    ['Infinity (would be null)', (i) => (i.issues = [{ ...issue(), priority: -Infinity }]), 'issues[0].priority: expected a JSON value, found -Infinity'],
    ['a function (would be dropped)', (i) => (i.credentials.token = () => 'x'), 'credentials.token: expected a JSON value, found a function'],
    ['a symbol (would be dropped)', (i) => (i.project_slug = Symbol('s')), 'project_slug: expected a JSON value, found a symbol'],
    ['a Date (would be a string)', (i) => (i.issues = [{ ...issue(), updated_at: new Date(0) }]), 'issues[0].updated_at: expected a plain object, found a Date'],
    ['a Map where no map belongs (would be {})', (i) => (i.checkpoint = new Map([['cursor', 'c']])), 'checkpoint: expected a plain object, found a Map'],
    ['a class instance', (i) => (i.checkpoint = new (class Cursor {})()), 'checkpoint: expected a plain object, found a Cursor'],
    ['a boxed string', (i) => (i.auth_token = new String('boxed-token')), 'auth_token: expected a plain object, found a String'],
    ['a toJSON method', (i) => (i.checkpoint = Object.defineProperty({}, 'toJSON', { value: () => null })), 'checkpoint: expected a plain object, found one with a toJSON method'],
    ['a key that is not an identifier', (i) => (i.doctrine_field_owners = { 'a b': undefined }), 'doctrine_field_owners["a b"]:'],
    ['a cycle', (i) => ((i.checkpoint = { cursor: null }), (i.checkpoint.self = i.checkpoint)), 'checkpoint.self.self'],
  ];
  for (const [name, edit, prefix] of cases) {
    test(name, () => {
      refuses(() => buildSnapshotPayload(withInput(edit)), 'invalid-input', prefix, ['boxed-token']);
    });
  }

  test('an input that is not a plain object', () => {
    for (const [input, found] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [true, 'a boolean'],
      [[], 'an array'],
      [new Map(), 'a Map'],
      [42, 'a number'],
    ]) {
      refuses(() => buildSnapshotPayload(input), 'invalid-input', `input: expected an object or JSON text, found ${found}`);
    }
  });

  test('a null-prototype object is a plain object', () => {
    const input = Object.assign(Object.create(null), baseInput());
    input.credentials = Object.assign(Object.create(null), input.credentials);
    assert.equal(buildSnapshotPayload(input).body, buildSnapshotPayload(baseInput()).body);
  });

  test('bad options', () => {
    refuses(() => buildSnapshotPayload(baseInput(), { idempotency: 'v2' }), 'invalid-input', 'options.idempotency: expected "v1" or "content", found "v2"');
    refuses(() => buildSnapshotPayload(baseInput(), 'content'), 'invalid-input', 'options: expected an object, found a string');
    assert.equal(buildSnapshotPayload(baseInput(), {}).idempotencyKey, buildSnapshotPayload(baseInput(), { idempotency: 'v1' }).idempotencyKey);
    assert.equal(buildSnapshotPayload(baseInput(), null).idempotencyKey, buildSnapshotPayload(baseInput()).idempotencyKey);
  });

  test('bad publish options reject before anything is sent', async () => {
    let called = 0;
    const fetch = async () => {
      called++;
      throw new Error('must not be called');
    };
    for (const [options, prefix] of [
      [{ fetch, retries: -1 }, 'options.retries:'],
      [{ fetch, retries: 1.5 }, 'options.retries:'],
      [{ fetch, timeoutMs: 0 }, 'options.timeoutMs:'],
      [{ fetch, timeoutMs: '10' }, 'options.timeoutMs:'],
      [{ fetch, backoffMs: -5 }, 'options.backoffMs:'],
      [{ fetch, onAttempt: 'log' }, 'options.onAttempt:'],
      [{ fetch, idempotency: 'V1' }, 'options.idempotency:'],
      [{ fetch: 'curl' }, 'options.fetch:'],
    ]) {
      await assert.rejects(publish(baseInput(), options), (e) => {
        assert.ok(e instanceof PublishError);
        assert.equal(e.kind, 'invalid-input');
        assert.ok(e.message.startsWith(prefix), e.message);
        return true;
      });
    }
    await assert.rejects(publish(withInput((i) => (i.provider = '')), { fetch }), { name: 'PublishError', kind: 'not-configured' });
    assert.equal(called, 0);
  });
});

describe('resolveResourceRouting', () => {
  const cases = [
    ['jira', { project_key: 'ACME' }, { resourceType: 'jira_project', resourceId: 'ACME' }],
    ['jira', { project_key: '  ACME\u3000' }, { resourceType: 'jira_project', resourceId: 'ACME' }],
    ['linear', { team_id: 'abc-123', api_key: 'lin' }, { resourceType: 'linear_team', resourceId: 'abc-123' }],
    ['linear', { project_key: 'ACME' }, null],
    ['jira', {}, null],
    ['jira', { project_key: '' }, null],
    ['jira', { project_key: ' \t ' }, null],
    ['Jira', { project_key: 'ACME' }, null], // not normalised: does not route, as in the CLI
    ['beads', { project_key: 'ACME' }, null],
    ['azure_devops', { project_key: 'ACME' }, null],
  ];
  for (const [provider, credentials, expected] of cases) {
    test(`${JSON.stringify(provider)} ${JSON.stringify(credentials)}`, () => {
      assert.deepEqual(resolveResourceRouting(provider, credentials), expected);
    });
  }

  test('with normalizeProvider, as the CLI', () => {
    assert.deepEqual(resolveResourceRouting(normalizeProvider(' JIRA '), { project_key: 'X' }), { resourceType: 'jira_project', resourceId: 'X' });
  });

  test('invalid arguments', () => {
    refuses(() => resolveResourceRouting(undefined, {}), 'invalid-input', 'provider: expected a string, found undefined');
    refuses(() => resolveResourceRouting('jira', null), 'invalid-input', 'credentials: expected an object, a Map or [key, value] pairs, found null');
    refuses(() => resolveResourceRouting('jira', [['project_key']]), 'invalid-input', 'credentials[0]: expected a [key, value] pair, found an array of 1');
    refuses(() => resolveResourceRouting('jira', { project_key: 12 }), 'invalid-input', 'credentials.project_key: expected a string, found a number');
    refuses(() => resolveResourceRouting('jira', { 'project key': null }), 'invalid-input', 'credentials["project key"]: expected a string, found null');
  });
});

describe('normalizeProvider', () => {
  const cases = [
    [' Jira ', 'jira'],
    ['JIRA', 'jira'],
    ['Azure', 'azure_devops'],
    ['azure-devops', 'azure_devops'],
    ['\u001cjira\u001f', 'jira'],
    ['\u200bjira', '\u200bjira'],
    ['\u0130', 'i\u0307'],
  ];
  for (const [raw, normalised] of cases) {
    test(JSON.stringify(raw), () => assert.equal(normalizeProvider(raw), normalised));
  }
  test('not a string', () => refuses(() => normalizeProvider(7), 'invalid-input', 'provider: expected a string, found a number'));
});
