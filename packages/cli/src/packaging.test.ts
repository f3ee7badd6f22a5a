import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Packed {
  readonly name: string;
  readonly version: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly main?: string;
  readonly types?: string;
  readonly bin?: Record<string, string>;
  readonly exports?: Record<string, { types: string; default: string }>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

const json = <T>(file: string): T => JSON.parse(readFileSync(join(root, file), 'utf8')) as T;
const workspaces = json<{ workspaces: string[] }>('package.json').workspaces;
const manifests = new Map(workspaces.map((w) => [w, json<Manifest>(join(w, 'package.json'))]));

async function packs(): Promise<Packed[]> {
  const npm = process.env['npm_execpath'];
  const [cmd, args] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  const { stdout } = await promisify(execFile)(
    cmd,
    [...args, 'pack', '--dry-run', '--json', '--workspaces', '--ignore-scripts'],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Packed[];
}

test('npm pack of every package ships its library, its LICENSE, what its manifest points at, and no tests or test helpers', async () => {
  const packed = await packs();
  assert.deepEqual(packed.map((p) => p.name).sort(), [
    '@engram/cli',
    '@engram/core',
    '@engram/datasets',
    '@engram/native',
    '@engram/strategies',
  ]);
  for (const p of packed) {
    const paths = p.files.map((f) => f.path);
    assert.ok(paths.includes('dist/index.js') || paths.includes('dist/main.js'), `${p.name} ships its entry point`);
    assert.ok(paths.includes('LICENSE'), `${p.name} ships a LICENSE`);
    const leaked = paths.filter((f) =>
      /\.test\.|\.reliability\.|\.packaging\.|(^|\/)testing\/|test-gc|test-support|test-helpers|^dist\/bench\//.test(f),
    );
    assert.deepEqual(leaked, [], `${p.name} ships test files`);
    const m = [...manifests.values()].find((x) => x.name === p.name);
    assert.ok(m);
    // Every file the manifest names is in the tarball (the datasets "./testing" entry is the repository's own
    // test helper, resolvable in the workspace only; its files are deliberately left out).
    const targets = [
      m.main,
      m.types,
      ...Object.values(m.bin ?? {}),
      ...Object.entries(m.exports ?? {})
        .filter(([k]) => k !== './testing')
        .flatMap(([, v]) => [v.types, v.default]),
    ].filter((t): t is string => t !== undefined);
    for (const t of targets) assert.ok(paths.includes(t.replace(/^\.\//, '')), `${p.name}: ${t} is in the tarball`);
  }
});

test('every package has the same version, the same licence text and names the others at exactly that version', () => {
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  const version = json<{ version: string }>('package.json').version;
  for (const [dir, m] of manifests) {
    assert.equal(m.version, version, `${m.name} version`);
    assert.equal(m.license, 'Apache-2.0', `${m.name} license field`);
    assert.equal(readFileSync(join(root, dir, 'LICENSE'), 'utf8'), license, `${dir}/LICENSE is the root LICENSE`);
    for (const deps of [m.dependencies, m.peerDependencies, m.devDependencies])
      for (const [name, range] of Object.entries(deps ?? {}))
        if (name.startsWith('@engram/')) assert.equal(range, version, `${m.name} names ${name} at ${range}`);
  }
});

test('only core depends on tfjs; plugins, native and the cli take @engram/core and tfjs as peers, so a user tree has one copy', () => {
  for (const m of manifests.values()) {
    const deps = Object.keys(m.dependencies ?? {});
    if (m.name === '@engram/core') {
      assert.ok(deps.includes('@tensorflow/tfjs') && deps.includes('@tensorflow/tfjs-backend-wasm'));
      continue;
    }
    assert.deepEqual(
      deps.filter((d) => d.startsWith('@tensorflow/') || d === '@engram/core' || d === 'rxjs'),
      [],
      `${m.name} depends (not as a peer) on a package that must exist once`,
    );
    assert.equal(m.peerDependencies?.['@engram/core'], m.version, `${m.name} takes @engram/core as a peer`);
  }
  // The cli imports tfjs, the wasm backend and rxjs itself: its peers say so, and npm installs them with it.
  const cli = [...manifests.values()].find((m) => m.name === '@engram/cli');
  assert.deepEqual(Object.keys(cli?.peerDependencies ?? {}).sort(), [
    '@engram/core',
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-backend-wasm',
    'rxjs',
  ]);
  // package-lock.json agrees with the manifests (npm ci refuses a lock that does not).
  const lock = json<{ packages: Record<string, { peerDependencies?: Record<string, string> }> }>('package-lock.json');
  for (const [dir, m] of manifests) assert.deepEqual(lock.packages[dir]?.peerDependencies, m.peerDependencies, dir);
});
