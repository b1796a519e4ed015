// The preview page end to end: dist/web served on loopback, driven in the
// system Chromium (/usr/bin/chromium) by playwright-core. `make test-web`
// builds dist/web first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const distDir = join(repoRoot, 'dist', 'web');
const vectorsPath = join(repoRoot, '..', 'shared', 'conformance', 'vectors.json');
const samplePath = join(repoRoot, 'host-examples', 'sample', 'snapshot.json');
const screenshotPath = join(repoRoot, 'target', 'web-preview.png');
/** The shared vectors have (at least) this many cases; fewer means some went missing. */
const MIN_VECTORS = 34;
const NO_ROUTING = 'no routing: falls back to provider + workspace';

let server;
let origin;
let browser;
let page;
const outside = []; // every request that left the page's own origin
const pageErrors = [];
let navigations = 0; // main-frame loads: the preview must update without one

before(async () => {
  if (!existsSync(join(distDir, 'index.html')) || !existsSync(join(distDir, 'tracker_publish_bg.wasm'))) {
    throw new Error(`${distDir} is not built: run \`make web-build\` first`);
  }
  ({ server, url: origin } = await serve(distDir, 0));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright gives every launch a fresh, temporary --user-data-dir.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  page = await context.newPage();
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')) outside.push(u);
  });
  page.on('pageerror', (e) => pageErrors.push(e));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  await page.goto(origin);
  await page.waitForSelector('html[data-ready="true"]');
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Puts `text` into #input as a paste would (one input event), and waits for the preview. */
async function paste(text) {
  if ((await page.inputValue('#input')) === text) return; // nothing would change
  const before = Number((await page.getAttribute('body', 'data-renders')) ?? 0);
  await page.fill('#input', text);
  await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) > n, before);
}

/** Runs `action`, then waits for the preview it causes. */
async function rerender(action) {
  const before = Number((await page.getAttribute('body', 'data-renders')) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) > n, before);
}

/** Every hook, as the page shows it. */
function hooks() {
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    return {
      endpoint: $('endpoint').textContent,
      headers: [...$('headers').querySelectorAll('li')].map((li) => [
        li.querySelector('.name').textContent,
        li.querySelector('.value').textContent,
      ]),
      key: $('idempotency-key').textContent,
      routingText: $('routing').textContent,
      routingType: $('routing').dataset.type,
      routingId: $('routing').dataset.id,
      body: $('body').textContent,
      bytes: $('body-size').dataset.bytes,
      raw: $('body-raw').textContent,
      errorKind: $('error').dataset.kind,
      errorText: $('error').textContent,
      errorHidden: $('error').hidden,
    };
  });
}

/**
 * Everything the page holds as text: its markup and the value of every input
 * and textarea (a textarea's value is not markup, so page.content() misses it).
 */
function dom() {
  return page.evaluate(
    () =>
      `${document.documentElement.outerHTML}\n${[...document.querySelectorAll('input, textarea')].map((e) => e.value).join('\n')}`,
  );
}

/** `input` as #input must show it while masked: the token and every credential value "***". */
function maskInput(input) {
  const out = structuredClone(input);
  if (typeof out.auth_token === 'string' && out.auth_token !== '') out.auth_token = '***';
  if (out.credentials && typeof out.credentials === 'object') {
    for (const [k, v] of Object.entries(out.credentials)) if (typeof v === 'string' && v !== '') out.credentials[k] = '***';
  }
  return out;
}

/** Checks that #input shows `input` masked, and that none of `secrets` is anywhere in the page. */
async function assertMasked(input, secrets, what = '') {
  const shown = await page.inputValue('#input');
  assert.deepEqual(JSON.parse(shown), maskInput(input), `#input is masked ${what}`);
  const all = await dom();
  for (const s of secrets) assert.ok(!all.includes(s), `a secret is in the page while masked ${what}: ${s}`);
}

/** Clicks "Reveal secrets" (or "Hide secrets"). */
async function toggleReveal() {
  await page.click('#reveal');
}

/** JSON text without the white space between tokens: the page's layout undone. */
function compact(text) {
  let out = '';
  let seg = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === ' ' || c === '\n') {
      out += text.slice(seg, i);
      seg = i + 1;
    }
  }
  return out + text.slice(seg);
}

/** The input's token and credential values that the request must not carry in the clear. */
function secretsOf(input, published) {
  const values = [input.auth_token, ...Object.values(input.credentials ?? {})];
  return values
    .filter((s) => typeof s === 'string')
    .flatMap((s) => [s, s.trim()])
    .filter((s) => s.length >= 5 && !published.includes(s));
}

const authorization = (headers) => headers.find(([n]) => n.toLowerCase() === 'authorization')?.[1];
const masked = (headers) =>
  headers.map(([n, v]) => [n, n.toLowerCase() === 'authorization' ? 'Bearer ***' : v]);

test('every shared vector through the page', async (t) => {
  assert.ok(existsSync(vectorsPath), `the shared vectors are missing: ${vectorsPath}`);
  const cases = JSON.parse(readFileSync(vectorsPath, 'utf8'));
  assert.ok(cases.length >= MIN_VECTORS, `${cases.length} cases, expected at least ${MIN_VECTORS}`);
  await page.check('#scheme-v1');
  let ran = 0;
  for (const c of cases) {
    await t.test(c.name, async () => {
      const text = JSON.stringify(c.input);
      await paste(text);
      const got = await hooks();
      const html = await dom();
      const e = c.expected;
      assert.deepEqual(JSON.parse(await page.inputValue('#input')), maskInput(c.input), '#input shows the input masked');
      if (e.error) {
        assert.equal(got.errorKind, e.error);
        assert.equal(got.errorHidden, false);
        assert.match(got.errorText, new RegExp(`Refused: ${e.error}`));
        assert.ok(got.errorText.length > `Refused: ${e.error}`.length, 'the panel has a message');
        assert.deepEqual([got.endpoint, got.headers, got.key, got.body, got.bytes], ['', [], '', '', '']);
        for (const s of secretsOf(c.input, '')) assert.ok(!html.includes(s), `a secret is in the page: ${s}`);
      } else {
        assert.equal(got.errorKind, '');
        assert.equal(got.errorHidden, true);
        assert.equal(got.endpoint, e.endpoint);
        assert.deepEqual(got.headers, masked(e.headers));
        assert.equal(got.key, e.idempotency_key);
        const body = JSON.parse(e.body);
        if (body.external_resource_type === null) {
          assert.equal(got.routingText, NO_ROUTING);
          assert.deepEqual([got.routingType, got.routingId], ['', '']);
        } else {
          assert.deepEqual([got.routingType, got.routingId], [body.external_resource_type, body.external_resource_id]);
        }
        assert.equal(compact(got.body), e.body, 'the laid-out body is the exact body, token for token');
        assert.equal(got.raw, e.body);
        assert.equal(Number(got.bytes), Buffer.byteLength(e.body, 'utf8'));

        // Masked: neither the header nor any unpublished secret is in the page.
        const auth = authorization(e.headers);
        for (const s of secretsOf(c.input, e.body + e.endpoint)) {
          assert.ok(!html.includes(s), `a secret is in the page while masked: ${s}`);
        }
        if (auth) {
          assert.ok(!html.includes(auth), 'the Authorization value is in the page while masked');
          await toggleReveal();
          assert.deepEqual((await hooks()).headers, e.headers, 'revealed: the real headers');
          assert.equal(await page.inputValue('#input'), text, 'revealed: the input as pasted');
          assert.ok((await dom()).includes(auth));
          await toggleReveal();
          assert.ok(!(await dom()).includes(auth), 'hidden again: the value left the page');
          await assertMasked(c.input, secretsOf(c.input, e.body + e.endpoint), 'after hiding again');
        }
      }
      ran++;
    });
  }
  assert.equal(ran, cases.length);
  assert.ok(ran >= MIN_VECTORS, `only ${ran} vectors ran`);
});

test('the input is masked: edit it, paste a token into it, break and mend it', async () => {
  // The oracle: the same wasm-bindgen build, in Node, on the real input.
  const core = await import(pathToFileURL(join(distDir, 'tracker_publish.js')).href);
  core.initSync({ module: readFileSync(join(distDir, 'tracker_publish_bg.wasm')) });
  const expect = (input) => {
    const r = core.buildSnapshotPayloadJson(JSON.stringify(input), 'v1');
    return { key: r.idempotencyKey, body: Buffer.from(r.body).toString('utf8'), headers: r.headers };
  };
  const c = JSON.parse(readFileSync(vectorsPath, 'utf8')).find((v) => v.name === 'jira happy path');
  assert.ok(c, 'the vector "jira happy path" is missing');
  const e = c.expected;
  const secrets = [c.input.auth_token, ...secretsOf(c.input, e.body + e.endpoint)];
  assert.ok(secrets.length >= 2, 'the vector has a token and an unpublished credential');
  await page.check('#scheme-v1');

  // Pasted pretty-printed: masked in #input, the preview from the real input.
  await paste(JSON.stringify(c.input, null, 2));
  await assertMasked(c.input, secrets, 'after a paste');
  let got = await hooks();
  assert.deepEqual(got.headers, masked(e.headers));
  assert.equal(got.key, e.idempotency_key);
  assert.equal(got.raw, e.body);
  const view = await page.inputValue('#input');

  // Typing in an ordinary field: the text is left as typed (caret included), the real token still used.
  const at = view.indexOf('"workspace": "') + '"workspace": "'.length;
  await page.focus('#input');
  await page.evaluate((a) => document.getElementById('input').setSelectionRange(a, a), at);
  await rerender(() => page.keyboard.type('x'));
  assert.equal(await page.inputValue('#input'), `${view.slice(0, at)}x${view.slice(at)}`, 'left as typed');
  assert.equal(await page.evaluate(() => document.getElementById('input').selectionStart), at + 1, 'the caret stayed');
  const edited = { ...c.input, workspace: `x${c.input.workspace}` };
  const want = expect(edited);
  got = await hooks();
  assert.notEqual(want.key, e.idempotency_key, 'the edit changes the key');
  assert.equal(got.key, want.key);
  assert.equal(got.raw, want.body);
  assert.deepEqual(got.headers, masked(want.headers));
  await assertMasked(edited, secrets, 'after typing');
  await toggleReveal();
  assert.deepEqual((await hooks()).headers, want.headers, 'revealed: the real token was used');
  assert.equal(await page.inputValue('#input'), JSON.stringify(edited, null, 2), 'revealed: the real input, edited');
  await toggleReveal();
  await assertMasked(edited, secrets, 'after hiding again');

  // A new token pasted over the mask replaces the remembered one and is masked at once.
  const fresh = 'new-token-789';
  const masked1 = await page.inputValue('#input');
  const tokenAt = masked1.indexOf('"auth_token": "***"') + '"auth_token": "'.length;
  await page.evaluate((t) => navigator.clipboard.writeText(t), fresh);
  await page.focus('#input');
  await page.evaluate((a) => document.getElementById('input').setSelectionRange(a, a + 3), tokenAt);
  // Watch every value the textarea takes during the paste: the token must not be one, even for a moment.
  await page.evaluate((t) => {
    const input = document.getElementById('input');
    window.sawToken = false;
    // Capturing on window: before the page's own listener on the textarea.
    window.addEventListener('input', () => (window.sawToken ||= input.value.includes(t)), true);
  }, fresh);
  await rerender(() => page.keyboard.press('ControlOrMeta+V'));
  assert.equal(await page.evaluate(() => window.sawToken), false, 'the pasted token was in the textarea');
  const withFresh = { ...edited, auth_token: fresh };
  await assertMasked(withFresh, [fresh, ...secrets.slice(1)], 'after pasting a token');
  assert.equal(await page.inputValue('#input'), masked1, 'the mask is shown where the token was pasted');
  await toggleReveal();
  assert.equal(authorization((await hooks()).headers), `Bearer ${fresh}`, 'the pasted token is used');
  assert.ok(!(await dom()).includes(c.input.auth_token), 'the old token is gone');
  await toggleReveal();

  // Text that is not JSON: the core refuses it, and no secret comes back into the page.
  await page.focus('#input');
  await page.evaluate(() => document.getElementById('input').setSelectionRange(0, 0));
  await rerender(() => page.keyboard.type('#'));
  assert.equal((await hooks()).errorKind, 'invalid-input');
  assert.equal(await page.inputValue('#input'), `#${masked1}`, 'text that is not JSON is left as typed');
  for (const s of [fresh, ...secrets.slice(1)]) assert.ok(!(await dom()).includes(s), `a secret is in the page: ${s}`);
  await rerender(() => page.keyboard.press('Backspace'));
  got = await hooks();
  assert.equal(got.errorKind, '');
  assert.equal(got.raw, expect(withFresh).body, 'mended: the remembered secrets are used again');
  await toggleReveal();
  assert.equal(authorization((await hooks()).headers), `Bearer ${fresh}`);
  await toggleReveal();

  // A remembered secret typed into text that is not JSON is masked where it appears.
  await paste(`{"auth_token": "${fresh}", "workspace": `);
  assert.equal((await hooks()).errorKind, 'invalid-input');
  assert.ok(!(await dom()).includes(fresh), 'a remembered secret in text that is not JSON');
});

test('the sample: masked, revealed, content key, copy, screenshot', async () => {
  const sample = JSON.parse(readFileSync(samplePath, 'utf8'));
  await page.check('#scheme-v1');
  await rerender(() => page.click('#sample'));
  let got = await hooks();
  const token = sample.auth_token;
  assert.equal(got.endpoint, `${sample.server_url}/api/v1/connectors/trackers/snapshots/`);
  assert.equal(authorization(got.headers), 'Bearer ***');
  assert.deepEqual([got.routingType, got.routingId], ['jira_project', sample.credentials.project_key]);
  assert.ok(!(await dom()).includes(token), 'the token is in the page while masked');
  await assertMasked(sample, secretsOf(sample, got.raw + got.endpoint));
  const v1Key = got.key;

  // The exact bytes: size, the copy button, and the content key over them.
  const raw = Buffer.from(got.raw, 'utf8');
  assert.equal(Number(got.bytes), raw.length);
  await page.click('#copy');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), got.raw, 'copied bytes = body bytes');
  assert.equal(compact(got.body), got.raw);
  await rerender(() => page.check('#scheme-content'));
  got = await hooks();
  assert.equal(got.key, createHash('sha256').update(raw).digest('hex'));
  assert.notEqual(got.key, v1Key);
  await rerender(() => page.check('#scheme-v1'));
  assert.equal((await hooks()).key, v1Key);

  // Collapsible per issue.
  const issues = await page.$$('#body details.issue');
  assert.equal(issues.length, sample.issues.length);
  await page.click('#collapse');
  assert.equal(await page.$$eval('#body details.issue[open]', (d) => d.length), 0);
  await page.click('#expand');
  assert.equal(await page.$$eval('#body details.issue[open]', (d) => d.length), sample.issues.length);

  mkdirSync(dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath });

  await toggleReveal();
  assert.equal(authorization((await hooks()).headers), `Bearer ${token}`);
  assert.equal(await page.inputValue('#input'), readFileSync(samplePath, 'utf8'), 'revealed: the sample as loaded');
  assert.ok((await dom()).includes(token));
  await toggleReveal();
  assert.ok(!(await dom()).includes(token));
  await assertMasked(sample, secretsOf(sample, got.raw + got.endpoint), 'after hiding again');
});

test('a refusal shows the panel with its kind and the field, never the token', async () => {
  const input = JSON.parse(readFileSync(samplePath, 'utf8'));
  input.auth_token = 'secret-abc\r\nX-Evil: 1';
  await paste(JSON.stringify(input));
  const got = await hooks();
  assert.equal(got.errorKind, 'invalid-auth-token');
  assert.equal(await page.isVisible('#error'), true);
  assert.match(got.errorText, /auth_token/);
  assert.deepEqual([got.endpoint, got.headers, got.body], ['', [], '']);
  assert.ok(!(await dom()).includes('secret-abc'), 'the refused token is in the page');

  await paste('{"server_url": "https://example.com", "issues": [');
  assert.equal((await hooks()).errorKind, 'invalid-input');

  const wrongType = JSON.parse(readFileSync(samplePath, 'utf8'));
  wrongType.issues[1].ref.id = 7;
  await paste(JSON.stringify(wrongType));
  const typed = await hooks();
  assert.equal(typed.errorKind, 'invalid-input');
  assert.match(typed.errorText, /issues\[1\]\.ref\.id/);

  await paste('');
  const cleared = await hooks();
  assert.deepEqual([cleared.errorKind, cleared.errorHidden, cleared.endpoint], ['', true, '']);
});

test('upload and drag-and-drop load a file', async () => {
  const text = readFileSync(samplePath, 'utf8');
  await paste('');
  await rerender(() =>
    page.setInputFiles('#file', { name: 'snapshot.json', mimeType: 'application/json', buffer: Buffer.from(text) }),
  );
  const sample = JSON.parse(text);
  const uploaded = await hooks();
  assert.equal(uploaded.routingType, 'jira_project');
  await assertMasked(sample, secretsOf(sample, uploaded.raw + uploaded.endpoint), 'after an upload');
  await toggleReveal();
  assert.equal(await page.inputValue('#input'), text, 'revealed: the file as uploaded');
  await toggleReveal();

  await paste('');
  const linear = JSON.parse(text);
  linear.provider = 'linear';
  linear.credentials = { team_id: 'TEAM-42' };
  const dropped = JSON.stringify(linear);
  const dataTransfer = await page.evaluateHandle((t) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t], 'linear.json', { type: 'application/json' }));
    return dt;
  }, dropped);
  await rerender(() => page.dispatchEvent('#drop', 'drop', { dataTransfer }));
  await assertMasked(linear, [linear.auth_token], 'after a drop');
  const got = await hooks();
  assert.deepEqual([got.routingType, got.routingId], ['linear_team', 'TEAM-42']);
  await toggleReveal();
  assert.equal(await page.inputValue('#input'), dropped, 'revealed: the file as dropped');
  await toggleReveal();
});

test('a 10,000-issue snapshot renders', async (t) => {
  const input = JSON.parse(readFileSync(samplePath, 'utf8'));
  const issue = input.issues[0];
  input.issues = Array.from({ length: 10_000 }, (_, i) => ({
    ...issue,
    ref: { ...issue.ref, id: String(100000 + i), key: `ACME-${i + 1}` },
    title: `Issue ${i + 1}: ${issue.title}`,
  }));
  await paste(JSON.stringify(input));
  const got = await hooks();
  assert.equal(got.errorKind, '');
  assert.ok(Number(got.bytes) > 3_000_000, `body of ${got.bytes} bytes`);
  assert.equal(await page.$$eval('#body details.issue', (d) => d.length), 200, 'the first 200 issues are laid out');
  assert.match(await page.textContent('#more'), /9,800 not shown/);
  await page.click('#more');
  assert.equal(await page.$$eval('#body details.issue', (d) => d.length), 400);
  // The exact-bytes view fills when opened.
  await page.click('#raw summary');
  const raw = await page.evaluate(() => document.getElementById('body-raw').textContent);
  assert.equal(Buffer.byteLength(raw, 'utf8'), Number(got.bytes));
  t.diagnostic(`page status: ${await page.textContent('#status')}`);
  await page.click('#raw summary');
});

test('one page load, no request outside its origin, no error', () => {
  assert.equal(navigations, 1, 'the page reloaded');
  assert.deepEqual(outside, []);
  assert.deepEqual(pageErrors.map(String), []);
});
