import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closestName } from './closest-name.js';
import { parseJson, readJsonFile } from './json-source.js';
import { MAX_JSON_DEPTH, MAX_JSON_KEY, MAX_JSON_VALUES, pointerAt, scanJsonText, scanJsonValue } from './json-scan.js';

test('a key given twice is reported at the pointer of the duplicate, wherever it is', () => {
  assert.deepEqual(scanJsonText('{"training":{"epochs":1000000},"seed":1,"training":{"epochs":1}}'), [
    { path: '/training', message: 'duplicate key: this object already has it (JSON keeps only the last)' },
  ]);
  assert.deepEqual(
    scanJsonText('{"a":[{"x":1},{"x":1,"y\\"z":2,"y\\"z":3}]}').map((p) => p.path),
    ['/a/1/y"z'],
  );
  assert.deepEqual(
    scanJsonText('{"a/b":{"c":1,"c":2}}').map((p) => p.path),
    ['/a~1b/c'],
  );
  assert.deepEqual(scanJsonText('{"a":{"k":1},"b":{"k":2}}'), [], 'the same key in two objects is fine');
});

test('numbers beyond a double and nesting deeper than the limit are problems with a pointer, not a stack overflow', () => {
  assert.deepEqual(
    scanJsonText('{"optimizer":{"learningRate":1e400},"x":[1,-2e999]}').map((p) => p.path),
    ['/optimizer/learningRate', '/x/1'],
  );
  const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
  const found = scanJsonText(deep);
  assert.equal(found.length, 1);
  assert.match(found[0]?.message ?? '', new RegExp(`nested more than ${MAX_JSON_DEPTH} levels deep`));
  assert.throws(
    () => parseJson(deep, 'deep.json'),
    (e: unknown) => e instanceof PipelineError && e.problems.length === 1,
  );
  let value: unknown = 1;
  for (let i = 0; i < 100_000; i++) value = { a: value };
  assert.match(scanJsonValue(value)[0]?.message ?? '', /nested more than/);
  assert.deepEqual(
    scanJsonValue({ a: [1, Number.NaN], b: -Infinity })
      .map((p) => p.path)
      .sort(),
    ['/a/1', '/b'],
  );
});

test('a huge pipeline is refused before the schema: over 100,000 values at the array that holds them, a 10 MB key in bounded memory', () => {
  const layers = `{"name":"x","model":{"layers":[${Array.from({ length: 200_000 }, () => '{"type":"flatten"}').join(',')}]}}`;
  const found = scanJsonText(layers);
  assert.equal(found.length, 1);
  assert.equal(found[0]?.path, '/model/layers');
  assert.match(found[0]?.message ?? '', new RegExp(`more than ${MAX_JSON_VALUES} values`));
  const many: unknown[] = Array.from({ length: MAX_JSON_VALUES + 1 }, () => 0);
  assert.match(scanJsonValue({ data: many })[0]?.message ?? '', /more than 100000 values/);
  // 10 MB: an unknown key of 10 million characters; refused in one pass (no edit-distance table)
  const rssBefore = process.memoryUsage().rss;
  const key = 'k'.repeat(10_000_000);
  const huge = scanJsonText(`{"name":"x","${key}":1}`);
  assert.deepEqual(
    huge.map((p) => p.message),
    [`a key of 10000000 characters, over the ${MAX_JSON_KEY}-character limit for a name`],
  );
  assert.equal(huge[0]?.path, `/${'k'.repeat(20)}…`);
  assert.equal(closestName(key, ['name', 'seed', 'model']), undefined);
  assert.ok(process.memoryUsage().rss - rssBefore < 400 * 1024 * 1024, 'well under the 1.4 GB it took');
});

test('a pipeline file with invalid UTF-8 is refused at the pointer of the string holding it, a valid U+FFFD is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-utf8-'));
  try {
    const file = join(dir, 'p.json');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('{\n  "name": "x",\n  "description": "caf'),
        Buffer.from([0xc3]),
        Buffer.from('"\n}\n'),
      ]),
    );
    await assert.rejects(readJsonFile(file), (e: unknown) => {
      assert.ok(e instanceof PipelineError);
      assert.deepEqual(
        e.problems.map((p) => `${p.path}: ${p.message}`),
        ['/description: invalid UTF-8 at byte 38 (line 3, column 22): a pipeline must be UTF-8 text'],
      );
      return true;
    });
    writeFileSync(file, '{"name":"x","description":"\uFFFD ok"}');
    assert.deepEqual(await readJsonFile(file), { name: 'x', description: '\uFFFD ok' });
    assert.equal(pointerAt('{"a":[1,{"b":"here"}]}', 15), '/a/1/b');
    assert.equal(pointerAt('{"a":1}', 0), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
