import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docScript, fencedBlocks, section } from './doc-script.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const read = (f: string): string => readFileSync(join(root, f), 'utf8');

test('a walkthrough becomes its bash lines and heredocs writing its file blocks, in document order', () => {
  const md = [
    '## Steps',
    '```bash',
    'mkdir p && cd p',
    '```',
    "```json file=it's.json",
    '{ "a": 1 }',
    '```',
    '```js',
    'not a file',
    '```',
    '```bash',
    'cat "it\'s.json"',
    '```',
    '## Next',
    '```bash',
    'echo later',
    '```',
  ].join('\n');
  assert.equal(
    docScript(section(md, 'Steps')),
    "mkdir p && cd p\ncat > 'it'\\''s.json' <<'ENGRAM_DOC_FILE_END'\n{ \"a\": 1 }\nENGRAM_DOC_FILE_END\ncat \"it's.json\"\n",
  );
  assert.throws(() => section(md, 'Missing'), /no section "Missing"/);
});

test('the README and both plugin walkthroughs have the from-an-empty-folder steps the packaging test runs', () => {
  const readme = fencedBlocks(section(read('README.md'), 'Use Engram in your own project'));
  assert.ok(readme.some((b) => b.lang === 'bash' && b.body.includes('npm run release:pack')));
  assert.ok(readme.some((b) => b.lang === 'bash' && /npm i \$ENGRAM\/dist-packages\/\*\.tgz/.test(b.body)));
  const strategy = fencedBlocks(section(read('docs/writing-a-strategy.md'), '0. From an empty folder'));
  assert.deepEqual(
    strategy.filter((b) => b.file !== undefined).map((b) => b.file),
    ['engram-strategy-l2-anchor/package.json', 'l2-anchor.pipeline.json'],
  );
  const stage = fencedBlocks(section(read('docs/writing-a-stage.md'), 'From an empty folder'));
  assert.deepEqual(
    stage.filter((b) => b.file !== undefined).map((b) => b.file),
    ['engram-stage-batch-counter/package.json', 'engram-stage-batch-counter/index.js', 'counter.pipeline.json'],
  );
  for (const b of [...strategy, ...stage].filter((x) => x.file?.endsWith('package.json') === true)) {
    const pkg = JSON.parse(b.body) as { peerDependencies?: Record<string, string>; dependencies?: unknown };
    assert.equal(pkg.peerDependencies?.['@engram/core'], '0.1.0', `${b.file} takes @engram/core as a peer`);
    assert.equal(pkg.dependencies, undefined, `${b.file} has no dependencies of its own`);
  }
});
