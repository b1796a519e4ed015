"""The release artifacts of dist/release, each installed and used from the
artifact alone (`make test-release`, part of `make test`).

Every install happens in a fresh temporary directory outside the repository,
holding only the artifact (and, as data, the shared vectors or a fixture):
nothing there names a path into the repository. Two things come from the
repository on purpose, as tools, not as part of what is tested:

- `tsc` (TypeScript, pinned in host-examples/node/package-lock.json), run
  with the temporary project as its working directory, so the types it checks
  are those of the installed package;
- for the wasmtime embedding, the versions of the repository's Cargo.lock (its
  text is copied into the generated project), the same dependency features
  and build flags, and the repository's target/ as CARGO_TARGET_DIR, purely
  as a build cache, so that wasmtime is not compiled again from cold. The embedding's bindings come from
  the binary WIT package of dist/release, never from wit/.

Python standard library only: `python3 tests/release/test_release.py -v`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "dist" / "release"
VECTORS = REPO.parent / "shared" / "conformance" / "vectors.json"
MIN_VECTORS = 34
LEAN_BUDGET = 128 * 1024
JCO = REPO / "host-examples" / "node" / "node_modules" / "@bytecodealliance" / "jco" / "dist" / "jco.js"
TSC = REPO / "host-examples" / "node" / "node_modules" / "typescript" / "bin" / "tsc"


def workspace_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version = "([^"]+)"', section, re.M).group(1)


VERSION = workspace_version()
WIT_PACKAGE = f"spec-kitty:tracker@{VERSION}"


def vectors() -> list[dict]:
    cases = json.loads(VECTORS.read_text())
    if len(cases) < MIN_VECTORS:
        raise AssertionError(f"{VECTORS}: {len(cases)} cases, expected at least {MIN_VECTORS}")
    return cases


def run(args, cwd, env=None, stdin=None, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{args[0]} exited {p.returncode}\nstdout: {p.stdout[-4000:]}\nstderr: {p.stderr[-4000:]}")
    return p


def artifact(pattern: str) -> Path:
    found = sorted(RELEASE.glob(pattern))
    if len(found) != 1:
        raise AssertionError(f"expected one {pattern} in {RELEASE}, found {[f.name for f in found]}")
    return found[0]


class TempDir:
    """A temporary directory outside the repository, removed afterwards."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="tracker-publish-release-"))
        assert REPO not in self.path.parents
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def archive_members(path: Path):
    """(name, bytes) of every file in an archive, or of the file itself."""
    name = path.name
    if name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(path, "r:gz") as t:
            for m in t.getmembers():
                if m.isfile():
                    yield f"{name}:{m.name}", t.extractfile(m).read()
    elif name.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                yield f"{name}:{n}", z.read(n)
    else:
        yield name, path.read_bytes()


COMPONENTIZE = REPO / "target" / "build-tool" / "componentize"


def metadata(path: Path) -> dict:
    """The outer component's registry metadata, read by `wasm-metadata` (what `wasm-tools metadata show` shows)."""
    shown = json.loads(run([str(COMPONENTIZE), "show", str(path)], cwd=REPO).stdout)
    return {**shown["metadata"]["component"]["metadata"], "imports": shown["imports"], "exports": shown["exports"], "package": shown.get("package")}


class Release(unittest.TestCase):
    def test_sha256sums_cover_every_file(self):
        sums = {}
        for line in (RELEASE / "SHA256SUMS").read_text().splitlines():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
        files = sorted(p.name for p in RELEASE.iterdir() if p.name != "SHA256SUMS")
        self.assertEqual(sorted(sums), files)
        for name in files:
            with self.subTest(name):
                self.assertEqual(hashlib.sha256((RELEASE / name).read_bytes()).hexdigest(), sums[name])

    def test_components_carry_registry_metadata_and_no_imports(self):
        for name, world in [("tracker_publish.wasm", "spec-kitty:tracker-publish"), ("tracker_publish_full.wasm", "spec-kitty:tracker-publish-full")]:
            with self.subTest(name):
                path = RELEASE / name
                meta = metadata(path)
                self.assertEqual(meta["name"], world, meta)
                self.assertEqual(meta["version"], VERSION, meta)
                self.assertEqual(meta["licenses"], "MIT OR Apache-2.0", meta)
                self.assertTrue(meta["description"], meta)
                self.assertTrue(str(meta["source"]).startswith("https://"), meta)
                self.assertEqual(meta["imports"], [])
                # And by jco's reader (wasm-tools built to WebAssembly): no imports.
                wit = run(["node", str(JCO), "wit", str(path)], cwd=REPO).stdout
                self.assertNotRegex(wit, r"(?m)^\s*import\s", "no imports")
                self.assertRegex(wit, r"(?m)^\s*export spec-kitty:tracker/publish@")
        lean = (RELEASE / "tracker_publish.wasm").stat().st_size
        self.assertLessEqual(lean, LEAN_BUDGET, f"the lean component is {lean} bytes, over the {LEAN_BUDGET}-byte budget")

    def test_wit_package_is_named_as_wkg_names_it(self):
        path = RELEASE / f"{WIT_PACKAGE}.wasm"
        shown = json.loads(run([str(COMPONENTIZE), "show", str(path)], cwd=REPO).stdout)
        self.assertEqual(shown["package"], WIT_PACKAGE)
        self.assertEqual(sorted(shown["interfaces"]), ["publish", "receive", "store"])
        self.assertEqual(sorted(shown["worlds"]), ["tracker-publish", "tracker-publish-full"])

    def test_no_artifact_names_a_build_machine_path(self):
        # As directories (a trailing "/"): "/root" alone is also in jco's "root:component/root".
        needles = {str(REPO), str(Path.home()), os.environ.get("CARGO_HOME", str(Path.home() / ".cargo"))}
        needles = {n.rstrip("/").encode() + b"/" for n in needles if len(n) > 1}
        checked = 0
        for path in sorted(RELEASE.iterdir()):
            for member, data in archive_members(path):
                checked += 1
                if member.endswith(".tar.gz") or member.endswith(".tgz"):
                    continue
                for needle in needles:
                    with self.subTest(member=member, path=needle.decode()):
                        self.assertFalse(needle in data, f"{member} names {needle.decode()}")
        self.assertGreater(checked, 5)

    def test_npm_tarball_installs_and_runs_every_vector_with_types(self):
        tgz = artifact("spec-kitty-tracker-publish-*.tgz")
        with tarfile.open(tgz, "r:gz") as t:
            manifest = json.load(t.extractfile("package/package.json"))
            names = t.getnames()
        self.assertEqual(manifest["version"], VERSION)
        self.assertNotIn("private", manifest)
        self.assertEqual(manifest["exports"]["."]["types"], "./index.d.ts")
        self.assertEqual(manifest["engines"], {"node": ">=20"})
        self.assertEqual(manifest["license"], "MIT OR Apache-2.0")
        self.assertIn("files", manifest)
        self.assertIn("package/README.md", names)
        with TempDir() as tmp:
            app = tmp / "app"
            app.mkdir()
            shutil.copy(tgz, app / tgz.name)
            (app / "package.json").write_text(json.dumps({"name": "app", "private": True, "type": "module"}))
            env = {**os.environ, "npm_config_cache": str(tmp / "npm-cache"), "npm_config_update_notifier": "false"}
            run(["npm", "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", f"./{tgz.name}"], cwd=app, env=env)
            (app / "vectors.json").write_text(VECTORS.read_text())
            (app / "run.mjs").write_text(RUN_VECTORS_MJS)
            results = json.loads(run(["node", "run.mjs"], cwd=app).stdout)
            self.check_vectors(results, "npm")
            (app / "usage.ts").write_text(USAGE_TS)
            (app / "tsconfig.json").write_text(json.dumps({
                "compilerOptions": {"strict": True, "noEmit": True, "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022", "lib": ["es2022"], "types": []},
                "files": ["usage.ts"],
            }))
            run(["node", str(TSC), "-p", "tsconfig.json"], cwd=app)

    def check_vectors(self, results: dict, host: str):
        """Every shared case, each reported by name (stderr), against the results of `host`."""
        cases = vectors()
        ran = 0
        for c in cases:
            with self.subTest(c["name"]):
                got = results[c["name"]]
                expected = c["expected"]
                if "error" in expected:
                    self.assertEqual(got.get("error"), expected["error"], got)
                else:
                    self.assertEqual(got.get("endpoint"), expected["endpoint"])
                    self.assertEqual(got.get("headers"), expected["headers"])
                    self.assertEqual(got.get("body"), expected["body"])
                    self.assertEqual(got.get("idempotency_key"), expected["idempotency_key"])
                print(f"    {host}::{c['name']} ... ok", file=sys.stderr)
                ran += 1
        self.assertEqual(ran, len(cases), "every case ran")

    def test_release_binary_alone(self):
        binary = RELEASE / "tracker-publish"
        with TempDir() as tmp:
            bin_dir = tmp / "bin"
            bin_dir.mkdir()
            shutil.copy(binary, bin_dir / "tracker-publish")
            exe = str(bin_dir / "tracker-publish")
            home = tmp / "home"
            env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
            self.assertEqual(run([exe, "--version"], cwd=tmp, env=env).stdout.strip(), f"tracker-publish {VERSION}")
            project = tmp / "project"
            run([exe, "sample-project", "--project", str(project), "--home", str(home)], cwd=tmp, env=env)
            dry = json.loads(run([exe, "publish", "--dry-run", "--project", str(project), "--server-url", "https://saas.example.com"], cwd=project, env=env).stdout)
            self.assertEqual(dry["endpoint"], "https://saas.example.com/api/v1/connectors/trackers/snapshots/")
            self.assertEqual(len(dry["idempotency_key"]), 64)
            body = json.loads(dry["body"])
            self.assertGreater(len(body["issues"]), 0)
            # preview of the same snapshot, given as its JSON form: the same request.
            case = next(c for c in vectors() if "error" not in c["expected"])
            (tmp / "input.json").write_text(json.dumps(case["input"]))
            preview = json.loads(run([exe, "preview", "--input", "input.json", "--show-secrets"], cwd=tmp, env=env).stdout)
            self.assertEqual(preview["body"], case["expected"]["body"])
            self.assertEqual(preview["idempotency_key"], case["expected"]["idempotency_key"])

    def test_component_in_a_fresh_wasmtime_embedding_from_the_binary_wit(self):
        with TempDir() as tmp:
            project = tmp / "embed"
            (project / "src").mkdir(parents=True)
            (project / "wit").mkdir()
            shutil.copy(RELEASE / f"{WIT_PACKAGE}.wasm", project / "wit" / "tracker.wasm")
            shutil.copy(RELEASE / "tracker_publish.wasm", tmp / "tracker_publish.wasm")
            (project / "Cargo.toml").write_text(embed_cargo_toml())
            (project / "Cargo.lock").write_text((REPO / "Cargo.lock").read_text())
            (project / "src" / "main.rs").write_text(EMBED_MAIN_RS)
            env = {**os.environ, "CARGO_TARGET_DIR": str(REPO / "target")}
            flags = repo_rustflags()
            if flags is not None:
                env["CARGO_BUILD_RUSTFLAGS"] = flags
            run(["cargo", "build", "--release", "--quiet", "--offline"], cwd=project, env=env)
            exe = REPO / "target" / "release" / "embed-check"
            cases = vectors()
            lines = "".join(json.dumps({"name": c["name"], "input": json.dumps(c["input"])}) + "\n" for c in cases)
            out = run([str(exe), str(tmp / "tracker_publish.wasm")], cwd=tmp, stdin=lines).stdout
            # split("\n"), not splitlines(): bodies hold U+2028 and other separators.
            self.check_vectors({r["name"]: r for r in map(json.loads, out.strip("\n").split("\n"))}, "wasmtime-embed")


RUN_VECTORS_MJS = """
import { readFileSync } from 'node:fs';
import { buildSnapshotPayload } from '@spec-kitty/tracker-publish';
const out = {};
for (const c of JSON.parse(readFileSync('vectors.json', 'utf8'))) {
  const r = {};
  for (const given of [c.input, JSON.stringify(c.input)]) {
    try {
      const q = buildSnapshotPayload(given);
      Object.assign(r, { endpoint: q.endpoint, headers: q.headers, body: q.body, idempotency_key: q.idempotencyKey });
    } catch (e) {
      r.error = e.kind;
    }
  }
  out[c.name] = r;
}
console.log(JSON.stringify(out));
"""

USAGE_TS = """
import {
  buildSnapshotPayload, buildSnapshotPayloadFromStore, normalizeProvider, publish, PublishError, resolveResourceRouting,
  storedTimestamp, storeScope, verifySnapshot,
  type ErrorKind, type PublishRequest, type PublishResult, type SnapshotInput, type SnapshotReceipt, type TrackerScope,
} from '@spec-kitty/tracker-publish';

const input: SnapshotInput = {
  server_url: 'https://example.com', auth_token: null, provider: 'jira', workspace: 'acme',
  doctrine_mode: null, doctrine_field_owners: new Map([['2', 'tracker']]), credentials: [['project_key', 'ACME']],
  project_uuid: null, project_slug: null, issues: [], mappings: [], checkpoint: null,
};
const request: PublishRequest = buildSnapshotPayload(input, { idempotency: 'content' });
const again: PublishRequest = buildSnapshotPayload('{"server_url": "https://example.com"}');
const receipt: SnapshotReceipt = verifySnapshot(request.bodyBytes, request.idempotencyKey);
const scope: TrackerScope = storeScope('jira', 'acme', { project_key: 'ACME' });
const when: string | null = storedTimestamp('2024-01-01T00:00:00');
const stored: PublishRequest = buildSnapshotPayloadFromStore(input, [{ identity: 'jira:1', payload: '{}' }]);
const provider: string = normalizeProvider(' Jira ');
const routing = resolveResourceRouting(provider, new Map([['project_key', 'ACME']]));
async function send(): Promise<number> {
  const result: PublishResult = await publish(input, { retries: 1 });
  return result.status;
}
try { verifySnapshot('{}', 'key'); } catch (e) {
  if (e instanceof PublishError) { const kind: ErrorKind = e.kind; void kind; }
}
// @ts-expect-error: not a scheme
buildSnapshotPayload(input, { idempotency: 'v2' });
// @ts-expect-error: the body is bytes or a string
verifySnapshot(42, 'key');
void again; void receipt; void scope; void when; void stored; void routing; void send;
"""

def embed_cargo_toml() -> str:
    """The embedding's manifest. Its dependencies are the repository host's
    (the text of its tables, without the path dependency on the core crate,
    plus the core crate's own registry dependencies), only so that Cargo
    resolves the same features and reuses the wasmtime already compiled in the
    shared target directory; the embedding itself uses wasmtime, anyhow and
    serde_json."""
    host = (REPO / "host-examples" / "wasmtime" / "Cargo.toml").read_text()
    core = (REPO / "Cargo.toml").read_text()

    def table(text: str, header: str) -> list[str]:
        body = text.split(f"\n{header}\n", 1)[1].split("\n[", 1)[0]
        return [l for l in body.splitlines() if l.strip() and not l.startswith("#") and "path =" not in l]

    host_deps = table(host, "[dependencies]")
    named = {l.split()[0] for l in host_deps}
    # The core's sha2 and hex, unless the host already names them (one key each).
    core_deps = [l for l in table(core, "[dependencies]") if l.split()[0] in ("sha2", "hex") and l.split()[0] not in named]
    lines = [
        "[package]", 'name = "embed-check"', 'version = "0.0.0"', 'edition = "2024"', "publish = false", "",
        "[dependencies]", *host_deps, *core_deps, "",
        "[target.'cfg(unix)'.dependencies]", *table(host, "[target.'cfg(unix)'.dependencies]"), "",
        "[workspace]", "",
    ]
    return "\n".join(lines)


def repo_rustflags() -> str | None:
    """The repository's generated build flags (.cargo/config.toml, `make setup`), for the shared cache."""
    config = REPO / ".cargo" / "config.toml"
    if not config.exists():
        return None
    m = re.search(r"^rustflags = \[(.*)\]$", config.read_text(), re.M)
    return " ".join(json.loads(f"[{m.group(1)}]")) if m else None

EMBED_MAIN_RS = r"""
// A host that knows the component only through the binary WIT package.
wasmtime::component::bindgen!({ path: "wit/tracker.wasm", world: "tracker-publish" });

use exports::spec_kitty::tracker::publish::{IdempotencyScheme, PublishOptions};
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let engine = wasmtime::Engine::default();
    let path = std::env::args().nth(1).expect("the component's path");
    let component = wasmtime::component::Component::from_file(&engine, path)?;
    let linker = wasmtime::component::Linker::new(&engine);
    let mut store = wasmtime::Store::new(&engine, ());
    let world = TrackerPublish::instantiate(&mut store, &component, &linker)?;
    let api = world.spec_kitty_tracker_publish();
    for line in std::io::stdin().lock().lines() {
        let case: serde_json::Value = serde_json::from_str(&line?)?;
        let input = case["input"].as_str().unwrap_or_default();
        let options = PublishOptions { idempotency: IdempotencyScheme::V1 };
        let out = match api.call_build_snapshot_payload_json(&mut store, input, options)? {
            Ok(r) => serde_json::json!({
                "name": case["name"], "endpoint": r.endpoint, "headers": r.headers,
                "body": String::from_utf8(r.body)?, "idempotency_key": r.idempotency_key,
            }),
            Err(e) => {
                // Debug names the case (`ErrorKind::InvalidInput`): kebab-case it.
                let debug = format!("{:?}", e.kind);
                let case_name = debug.rsplit("::").next().unwrap_or_default();
                let kind: String = case_name.chars().enumerate().flat_map(|(i, c)| {
                    let lower = c.to_ascii_lowercase();
                    if c.is_ascii_uppercase() && i > 0 { vec!['-', lower] } else { vec![lower] }
                }).collect();
                serde_json::json!({ "name": case["name"], "error": kind })
            }
        };
        println!("{out}");
    }
    Ok(())
}
"""

if __name__ == "__main__":
    unittest.main()
