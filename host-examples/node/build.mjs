#!/usr/bin/env node
// Builds the npm package @spec-kitty/tracker-publish into dist/node/:
//
//   gen/tracker_publish.js         jco's bindings for dist/tracker_publish.wasm (and their .d.ts)
//   gen/tracker_publish.core.wasm  the core module inside the component
//   gen/tracker_publish_full.*     the same for dist/tracker_publish_full.wasm (store, receive)
//   index.js, index.d.ts           the idiomatic API (src/) over those bindings
//   package.json, README.md        what npm publishes
//   LICENSE-MIT, LICENSE-APACHE    the license texts (from the repository's root)
//
// Run by `make node` (after `make build` and `npm ci` here). jco runs with:
//   --instantiation sync   the bindings export `instantiate(getCoreModule, imports)`;
//                          index.js compiles the core module itself, so there is
//                          no top-level await, no fetch of the .wasm, no WASI shim
//                          (the component imports nothing: `imports` is `{}`);
//   --no-namespaced-exports: one `publish` export (the public types are the
//                          hand-written index.d.ts; jco's own stay in gen/);
//   --no-component-error-wrapping: a refusal arrives as the plain `{kind, message}`
//                          record, which index.js turns into a PublishError;
//   --valid-lifting-optimization: the values lifted come from our own component.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// The lean component (publish) and the full one (publish, store, receive).
const components = ['tracker_publish', 'tracker_publish_full'];
const out = join(root, 'dist', 'node');
const jco = join(here, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

for (const name of components) {
  const component = join(root, 'dist', `${name}.wasm`);
  if (!existsSync(component)) fail(`${relative(root, component)} is missing: run \`make build\` first`);
}
if (!existsSync(jco)) fail('jco is not installed: run `npm ci` in host-examples/node (or `make node`)');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Patches to jco 1.35's bindings, for speed; the build stops unless each
// matches exactly once (jco is pinned in package-lock.json; a new jco needs
// them looked at again).
const patches = [
  {
    // `_debugLog` runs on every call and reads `process.env.JCO_DEBUG` each
    // time: in Node a lookup in the C environment, about 40% of a
    // `resolveResourceRouting` call. Read it once, at load.
    from: /^(\s*)(const _debugLog = \(\.\.\.args\) => \{\n\s*)if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}/m,
    to: '$1const JCO_DEBUG = !!globalThis?.process?.env?.JCO_DEBUG;\n$1$2if (!JCO_DEBUG) { return; }',
  },
  {
    // Every string passed in is first measured by a JavaScript loop over its
    // UTF-16 units: 30 ms of a 6.8 MB snapshot's 110. Node measures it natively
    // (counting a lone surrogate as 3 bytes, as TextEncoder then writes
    // U+FFFD; the `written !== len` check after it stays).
    from: /\n(\s*)let len = 0;\n\s*let codepoints = 0;\n\s*for \(let i = 0; i < s\.length; i\+\+\) \{[\s\S]*?\n\s*\}\n(\s*const ptr = realloc\(0, 0, 1, len\);)/,
    to: "\n$1const len = Buffer.byteLength(s, 'utf8');\n$2",
  },
  { from: /const res = \{ ptr, len, codepoints \};/, to: 'const res = { ptr, len };' },
];

for (const name of components) {
  const args = [
    jco, 'transpile', join(root, 'dist', `${name}.wasm`),
    '--out-dir', join(out, 'gen'),
    '--name', name,
    '--instantiation', 'sync',
    '--no-namespaced-exports',
    '--no-component-error-wrapping',
    '--valid-lifting-optimization',
    '--quiet',
  ];
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (run.status !== 0) fail(`jco transpile of ${name}.wasm failed (exit ${run.status ?? run.signal})`);
  const bindings = join(out, 'gen', `${name}.js`);
  let patched = readFileSync(bindings, 'utf8');
  for (const { from, to } of patches) {
    const hits = patched.match(new RegExp(from.source, `${from.flags}g`))?.length ?? 0;
    if (hits !== 1) fail(`patching ${name}.js: expected ${from} once, found it ${hits} times`);
    patched = patched.replace(from, to);
  }
  if (/^\s*import\s/m.test(patched)) fail(`${name}.js imports a module: the component must have no imports`);
  writeFileSync(bindings, patched);
}

for (const f of ['index.js', 'index.d.ts']) copyFileSync(join(here, 'src', f), join(out, f));
copyFileSync(join(here, 'README.md'), join(out, 'README.md'));
// The license texts of the SPDX expression in `license` (the repository's).
const licenses = ['LICENSE-MIT', 'LICENSE-APACHE'];
for (const f of licenses) copyFileSync(join(root, f), join(out, f));

const source = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const manifest = {
  name: source.name,
  version: source.version,
  description: source.description,
  license: source.license,
  repository: source.repository,
  type: 'module',
  exports: { '.': { types: './index.d.ts', default: './index.js' }, './package.json': './package.json' },
  main: './index.js',
  types: './index.d.ts',
  files: ['index.js', 'index.d.ts', 'gen/', 'README.md', ...licenses],
  sideEffects: false,
  engines: source.engines,
  keywords: ['spec-kitty', 'tracker', 'webassembly', 'component-model', 'jco'],
};
writeFileSync(join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

// Smoke test: the package loads and the component answers.
const api = await import(pathToFileURL(join(out, 'index.js')).href);
if (api.normalizeProvider(' Azure-DevOps ') !== 'azure_devops') fail('smoke test: normalizeProvider gave a wrong answer');
console.log(`built ${relative(process.cwd(), out) || '.'} (${source.name}@${source.version})`);
