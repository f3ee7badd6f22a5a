import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { unresolvedImport } from './import-failure.js';
import { loadPlugins } from './plugin-loader.js';

/** A folder outside the repository (so no node_modules above it resolves anything) with these files. */
function folder(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'engram-import-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function loadError(specifier: string, dir: string): Promise<string> {
  try {
    await loadPlugins([{ specifier, path: '/plugins/1' }], { baseDir: dir, allowLocal: true, extraDirs: [dir] });
  } catch (e) {
    assert.ok(e instanceof PipelineError, String(e));
    return e.message;
  }
  return 'loaded';
}

test('a plugin file whose tfjs import cannot be resolved names that module and the file importing it', async () => {
  const { dir, cleanup } = folder({ 'l1.js': "import * as tf from '@tensorflow/tfjs';\nexport default { tf };\n" });
  try {
    assert.equal(
      await loadError('./l1.js', dir),
      `/plugins/1: cannot load plugin "./l1.js": cannot resolve "@tensorflow/tfjs" imported from ${join(dir, 'l1.js')}`,
    );
  } finally {
    cleanup();
  }
});

test('a missing relative file two imports deep is named with its importer, not reported as a missing plugin', async () => {
  const { dir, cleanup } = folder({
    'plugin.js': "export { default } from './lib/a.js';\n",
    'lib/a.js': "import './b.js';\nexport default {};\n",
  });
  try {
    assert.equal(
      await loadError('./plugin.js', dir),
      `/plugins/1: cannot load plugin "./plugin.js": cannot resolve "${join(dir, 'lib', 'b.js')}" imported from ${join(dir, 'lib', 'a.js')}`,
    );
  } finally {
    cleanup();
  }
});

test('a plugin file that does not exist is still "no module at" its path', async () => {
  const { dir, cleanup } = folder({});
  try {
    assert.equal(
      await loadError('./gone.js', dir),
      `/plugins/1: cannot load plugin "./gone.js": no module at ${join(dir, 'gone.js')}`,
    );
  } finally {
    cleanup();
  }
});

test('an installed plugin package whose peer dependency is missing names the peer, not the package', async () => {
  const { dir, cleanup } = folder({
    'node_modules/engram-plugin-x/package.json': '{"name":"engram-plugin-x","type":"module","exports":"./index.js"}',
    'node_modules/engram-plugin-x/index.js': "import '@engram/not-installed';\nexport default {};\n",
  });
  try {
    const index = join(dir, 'node_modules', 'engram-plugin-x', 'index.js');
    assert.equal(
      await loadError('engram-plugin-x', dir),
      `/plugins/1: cannot load plugin "engram-plugin-x": cannot resolve "@engram/not-installed" imported from ${index}`,
    );
    assert.match(
      await loadError('engram-plugin-absent', dir),
      /: package not found \(looked from .*\); is it installed\?$/,
    );
  } finally {
    cleanup();
  }
});

test('CommonJS require failures are read with their require stack, other errors are not resolution failures', () => {
  const cjs = Object.assign(new Error("Cannot find module 'zzz'\nRequire stack:\n- /p/l3.cjs"), {
    code: 'MODULE_NOT_FOUND',
  });
  assert.deepEqual(unresolvedImport(cjs), { specifier: 'zzz', importer: '/p/l3.cjs' });
  assert.equal(unresolvedImport(new SyntaxError('Unexpected token')), undefined);
  assert.equal(unresolvedImport(Object.assign(new Error('x'), { code: 'ERR_MODULE_NOT_FOUND' })), undefined);
});
