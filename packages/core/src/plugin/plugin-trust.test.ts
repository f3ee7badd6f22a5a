import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { loadPlugins, type PluginResolution } from './plugin-loader.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A folder with a plugin file that, if it were ever imported, would write `marker`. */
function hostileFolder(): { dir: string; marker: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'engram-trust-'));
  const marker = join(dir, 'PWNED');
  const body =
    `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); export ` +
    `default { name: 'evil', apiVersion: 1, module: null };\n`;
  writeFileSync(join(dir, 'evil.mjs'), body);
  mkdirSync(join(dir, 'node_modules', '@engram', 'strategies'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', '@engram', 'strategies', 'package.json'),
    '{"name":"@engram/strategies","type":"module","main":"index.js","exports":"./index.js"}',
  );
  writeFileSync(join(dir, 'node_modules', '@engram', 'strategies', 'index.js'), body);
  return { dir, marker, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function refusal(specifier: string, resolution: PluginResolution): Promise<string> {
  try {
    await loadPlugins([{ specifier, path: '/plugins/0' }], resolution);
  } catch (e) {
    assert.ok(e instanceof PipelineError, String(e));
    return e.message;
  }
  return 'loaded';
}

test('a pipeline cannot run code through data:, http: or file: plugin URLs', async () => {
  const { dir, marker, cleanup } = hostileFolder();
  try {
    const code = `import{writeFileSync}from'node:fs';writeFileSync(${JSON.stringify(marker)},'x');export default {}`;
    const specs = [
      `data:text/javascript,${code}`,
      `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`,
      'DATA:text/javascript,export default 1',
      'http://127.0.0.1:1/evil.js',
      'node:fs',
      pathToFileURL(join(dir, 'evil.mjs')).href,
    ];
    for (const s of specs)
      assert.match(
        await refusal(s, { baseDir: dir }),
        /^\/plugins\/0: cannot load plugin .*(plugins are not allowed|--allow-local-plugins)/,
        s,
      );
    assert.equal(existsSync(marker), false, 'no plugin code ran');
  } finally {
    cleanup();
  }
});

test('plugin files beside the pipeline load only with allowLocal, and never from outside its folder', async () => {
  const { dir, marker, cleanup } = hostileFolder();
  const outside = mkdtempSync(join(tmpdir(), 'engram-outside-'));
  try {
    assert.match(
      await refusal('./evil.mjs', { baseDir: dir }),
      /is a file path: a pipeline may load plugin files only when you pass --allow-local-plugins/,
    );
    assert.equal(existsSync(marker), false);
    writeFileSync(join(outside, 'x.mjs'), 'export default {}');
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    symlinkSync(join(outside, 'x.mjs'), join(sub, 'link.mjs'));
    assert.match(
      await refusal(join(outside, 'x.mjs'), { baseDir: dir, allowLocal: true }),
      /is outside the pipeline's folder/,
    );
    assert.match(await refusal('../x.mjs', { baseDir: sub, allowLocal: true }), /is outside the pipeline's folder/);
    assert.match(await refusal('./link.mjs', { baseDir: sub, allowLocal: true }), /is outside the pipeline's folder/);
    // opted in and inside: it is imported (and its bad manifest reported)
    assert.match(await refusal('./evil.mjs', { baseDir: dir, allowLocal: true }), /plugin "\.\/evil\.mjs": /);
    assert.equal(existsSync(marker), true);
  } finally {
    cleanup();
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a node_modules planted beside the pipeline does not shadow the installed plugin', async () => {
  const { dir, marker, cleanup } = hostileFolder();
  try {
    const loaded = await loadPlugins([{ specifier: '@engram/strategies', path: '/plugins/0' }], {
      baseDir: dir,
      extraDirs: [here],
    });
    assert.deepEqual(
      loaded.manifests.map((m) => m.name),
      ['@engram/strategies'],
    );
    assert.ok(loaded.registry.kinds('strategy').length > 3, 'the installed strategies are registered');
    assert.equal(existsSync(marker), false, 'the planted package was not imported');
  } finally {
    cleanup();
  }
});

test('plugin names on the command line may be file paths (the user typed them)', async () => {
  const { dir, cleanup } = hostileFolder();
  try {
    const file = join(dir, 'ok.mjs');
    writeFileSync(file, 'export default 42');
    await assert.rejects(
      loadPlugins([{ specifier: file, path: '--plugin', origin: 'cli' }], { baseDir: '/nowhere' }),
      /--plugin: plugin .*: /,
    );
    assert.match(await refusal('not a name!', { baseDir: dir }), /neither an npm package name nor a file path/);
  } finally {
    cleanup();
  }
});
