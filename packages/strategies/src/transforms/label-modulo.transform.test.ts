import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelModuloTransform } from './label-modulo.transform.js';
import { batchOf } from '../testing/fixtures.js';

test('label-modulo maps digit pairs to even/odd and leaves the features and the input batch untouched', () => {
  const input = batchOf([[1], [2], [3], [8], [9]], [0, 3, 4, 7, 9]);
  const out = new LabelModuloTransform({ modulo: 2 }).apply(input);
  assert.deepEqual(Array.from(out.y), [0, 1, 0, 1, 1]);
  assert.deepEqual(Array.from(input.y), [0, 3, 4, 7, 9]);
  assert.equal(out.x, input.x);
});
