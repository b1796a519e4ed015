// As a user would: `npm pack` the built package, install the tarball into a
// fresh directory (offline: it has no dependencies), import it there, and
// type-check a TypeScript file against its declarations.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadVectors, packageDir, packageSource } from './support.mjs';

const work = mkdtempSync(join(tmpdir(), 'tracker-publish-pack-'));
const app = join(work, 'app');
let tarball;
let packed;

function npm(args, cwd) {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // A cache of its own: nothing from the user's cache, nothing written to it.
    env: { ...process.env, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' },
  });
}

before(() => {
  [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], packageDir));
  tarball = join(work, packed.filename);
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], app);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package, installed from its tarball', () => {
  test('the tarball holds the package and nothing else', () => {
    assert.equal(packed.name, '@spec-kitty/tracker-publish');
    const files = packed.files.map((f) => f.path).sort();
    for (const f of ['LICENSE-APACHE', 'LICENSE-MIT', 'README.md', 'gen/tracker_publish.core.wasm', 'gen/tracker_publish.js', 'index.d.ts', 'index.js', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed (${files.join(', ')})`);
    }
    assert.ok(files.every((f) => /^(LICENSE-(APACHE|MIT)|README\.md|index\.(js|d\.ts)|package\.json|gen\/)/.test(f)), files.join(', '));
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', '@spec-kitty', 'tracker-publish', 'package.json'), 'utf8'));
    assert.equal(manifest.type, 'module');
    assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
    assert.equal(manifest.private, undefined);
  });

  test('imports by name and computes a vector', () => {
    const c = loadVectors()[0];
    writeFileSync(join(app, 'input.json'), JSON.stringify(c.input));
    writeFileSync(
      join(app, 'main.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { buildSnapshotPayload, resolveResourceRouting, PublishError } from '@spec-kitty/tracker-publish';",
        "const r = buildSnapshotPayload(JSON.parse(readFileSync('input.json', 'utf8')));",
        "let kind; try { buildSnapshotPayload({}); } catch (e) { kind = e instanceof PublishError && e.kind; }",
        "console.log(JSON.stringify({ ...r, bodyBytes: r.bodyBytes.length, routing: resolveResourceRouting('jira', { project_key: 'A' }), kind }));",
      ].join('\n'),
    );
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
    assert.equal(out.endpoint, c.expected.endpoint);
    assert.deepEqual(out.headers, c.expected.headers);
    assert.equal(out.body, c.expected.body);
    assert.equal(out.bodyBytes, Buffer.byteLength(c.expected.body));
    assert.equal(out.idempotencyKey, c.expected.idempotency_key);
    assert.deepEqual(out.routing, { resourceType: 'jira_project', resourceId: 'A' });
    assert.equal(out.kind, 'invalid-input');
  });

  test('its TypeScript declarations check under --strict', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: [] },
        files: ['usage.ts'],
      }),
    );
    writeFileSync(
      join(app, 'usage.ts'),
      `import {
  buildSnapshotPayload, buildSnapshotPayloadFromStore, normalizeProvider, publish, PublishError, resolveResourceRouting,
  storedTimestamp, storeScope, verifySnapshot, framed,
  type ErrorKind, type OrderedMap, type PublishRequest, type PublishResult, type ResourceRouting, type SnapshotInput,
  type SnapshotReceipt, type StoredIssueRow, type TrackerScope,
} from '@spec-kitty/tracker-publish';

const input: SnapshotInput = {
  server_url: 'https://example.com', auth_token: null, provider: 'jira', workspace: 'acme',
  doctrine_mode: null, doctrine_field_owners: {}, credentials: { project_key: 'ACME' },
  project_uuid: null, project_slug: null,
  issues: [{ ref: { system: 'jira', workspace: 'acme', id: '1', key: null, url: null }, title: 't', body: null,
             status: 'todo', issue_type: 'task', priority: 1, assignees: [], labels: [], updated_at: null }],
  mappings: [], checkpoint: { cursor: null, updated_since: null },
};
const request: PublishRequest = buildSnapshotPayload(input, { idempotency: 'content' });
const bytes: Uint8Array = request.bodyBytes;
const first: [string, string] = request.headers[0];
const routing: ResourceRouting | null = resolveResourceRouting(normalizeProvider('Jira'), input.credentials);
async function send(): Promise<number> {
  const result: PublishResult = await publish(input, { retries: 2, timeoutMs: 5000, onAttempt: (i) => void i.retryInMs });
  return result.status + result.attempts;
}
try { buildSnapshotPayload(input); } catch (e) {
  if (e instanceof PublishError) { const kind: ErrorKind = e.kind; void kind; }
}
// @ts-expect-error: not a scheme
buildSnapshotPayload(input, { idempotency: 'v2' });
// @ts-expect-error: priority is a number
buildSnapshotPayload({ ...input, issues: [{ ...input.issues[0], priority: '1' }] });
// @ts-expect-error: credentials are strings
resolveResourceRouting('jira', { project_key: 1 });
const fromText: PublishRequest = buildSnapshotPayload(JSON.stringify(input));
const owners: OrderedMap[] = [new Map([['2', 'tracker']]), [['2', 'tracker']], { title: 'tracker' }];
const withMap: PublishRequest = buildSnapshotPayload({ ...input, doctrine_field_owners: owners[0], credentials: [['project_key', 'A']] });
const receipt: SnapshotReceipt = verifySnapshot(request.bodyBytes, request.idempotencyKey);
const routingKey: string[] = receipt.routingKey;
const type: string | null = receipt.externalResourceType;
const scope: TrackerScope = storeScope('jira', 'acme', new Map([['project_key', 'A']]));
const when: string | null = storedTimestamp(null);
const rows: StoredIssueRow[] = [{ identity: 'jira:1', payload: '{}' }];
const stored: PublishRequest = buildSnapshotPayloadFromStore({ ...input, issues: [] }, rows, { idempotency: 'v1' });
const frame: string = framed.buildSnapshotPayloadFramed('content\\n' + JSON.stringify(input));
const routed: string = framed.resolveResourceRoutingFramed('{"project_key":"A"}\\njira');
// @ts-expect-error: the framed entries take one string
framed.resolveResourceRoutingFramed('{}', 'jira');
// @ts-expect-error: verifySnapshot takes bytes or a string
verifySnapshot(42, 'key');
// @ts-expect-error: pairs are of strings
buildSnapshotPayload({ ...input, credentials: [['project_key', 1]] });
void bytes; void first; void routing; void send; void fromText; void withMap; void routingKey; void type; void scope; void when; void stored;
`,
    );
    const tsc = join(packageSource, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc: ${e.stdout}${e.stderr}`);
    }
  });
});

describe('the lockfile', () => {
  test('pins jco 1.35 from the npm registry, with no other source', () => {
    const text = readFileSync(join(packageSource, 'package-lock.json'), 'utf8');
    const lock = JSON.parse(text);
    assert.match(lock.packages['node_modules/@bytecodealliance/jco'].version, /^1\.35\.\d+$/);
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') continue;
      assert.ok(entry.integrity, `${path} has an integrity hash`);
      if (entry.resolved) assert.ok(entry.resolved.startsWith('https://registry.npmjs.org/'), `${path} comes from the npm registry`);
    }
    for (const url of text.match(/[a-z+]+:\/\/[^"\s]+/g) ?? []) {
      assert.ok(url.startsWith('https://registry.npmjs.org/'), `${url} is not the npm registry`);
    }
  });
});
