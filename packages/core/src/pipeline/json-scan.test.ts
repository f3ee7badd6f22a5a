import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from './pipeline-error.js';
import { parseJson } from './json-source.js';
import { MAX_JSON_DEPTH, scanJsonText, scanJsonValue } from './json-scan.js';

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
