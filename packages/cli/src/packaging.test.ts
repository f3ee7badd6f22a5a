import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Packed {
  readonly name: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

test('npm pack of every package ships its library and no tests or test helpers', async () => {
  const npm = process.env['npm_execpath'];
  const [cmd, args] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  const { stdout } = await promisify(execFile)(
    cmd,
    [...args, 'pack', '--dry-run', '--json', '--workspaces', '--ignore-scripts'],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  const packs = JSON.parse(stdout) as Packed[];
  assert.deepEqual(packs.map((p) => p.name).sort(), [
    '@engram/cli',
    '@engram/core',
    '@engram/datasets',
    '@engram/native',
    '@engram/strategies',
  ]);
  for (const p of packs) {
    const paths = p.files.map((f) => f.path);
    assert.ok(paths.includes('dist/index.js') || paths.includes('dist/main.js'), `${p.name} ships its entry point`);
    const leaked = paths.filter((f) => /\.test\.|(^|\/)testing\/|test-gc|test-support|test-helpers/.test(f));
    assert.deepEqual(leaked, [], `${p.name} ships test files`);
  }
});
