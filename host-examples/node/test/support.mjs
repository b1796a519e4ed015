// Shared by the tests: where things are, and the package under test (dist/node).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
/** host-examples/node */
export const packageSource = join(here, '..');
/** The repository root. */
export const repoRoot = join(here, '..', '..', '..');
/** The built package: `make node` writes it. */
export const packageDir = join(repoRoot, 'dist', 'node');
/** ../shared/conformance/vectors.json, relative to the repository root. */
export const vectorsPath = join(repoRoot, '..', 'shared', 'conformance', 'vectors.json');
/** The shared vectors have (at least) this many cases; fewer means some went missing. */
export const MIN_VECTORS = 34;

if (!existsSync(join(packageDir, 'index.js'))) {
  throw new Error(`${packageDir}/index.js is missing: run \`make node\` first`);
}
export const pkg = await import(pathToFileURL(join(packageDir, 'index.js')).href);

/** The vector cases; throws (failing the test) when the file is missing or short. */
export function loadVectors() {
  if (!existsSync(vectorsPath)) throw new Error(`the shared vectors are missing: ${vectorsPath}`);
  const cases = JSON.parse(readFileSync(vectorsPath, 'utf8'));
  if (!Array.isArray(cases)) throw new Error(`${vectorsPath}: expected a list of cases`);
  if (cases.length < MIN_VECTORS) {
    throw new Error(`${vectorsPath}: ${cases.length} cases, expected at least ${MIN_VECTORS}`);
  }
  return cases;
}

/**
 * Every secret an input holds: the explicit token, every credential value and
 * the user-info of the server URL. Values shorter than five characters are left
 * out: "tok" is in every message that says "token".
 */
export function secretsOf(input) {
  const userInfo = /^[a-z]+:\/\/([^@/]*)@/i.exec(input.server_url ?? '')?.[1];
  const secrets = [input.auth_token, ...Object.values(input.credentials ?? {}), userInfo, userInfo?.split(':')[1]];
  return secrets.filter((s) => typeof s === 'string' && s.trim().length >= 5);
}

/** A valid input to start from (the first vector's). */
export function baseInput() {
  return structuredClone(loadVectors()[0].input);
}
