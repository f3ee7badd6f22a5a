import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameAsStock, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';

/** `n` int32 indices in [0, dim), spread over the axis. */
function ids(shape: number[], dim: number): tf.Tensor {
  const n = tf.util.sizeFromShape(shape);
  return tf.tensor(
    Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % dim),
    shape,
    'int32',
  );
}

describe('native GatherV2 on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, number[], number[], number]> = [
    ["the GRU bench's embedding lookup [1000, 64] at [128, 32] tokens", [1000, 64], [128, 32], 0],
    ['rows of a rank-3 tensor along axis 1', [6, 50, 30], [40], 1],
    ['single values along the last axis', [300, 40], [25], 1],
    ['a rank-1 tensor', [9000], [5000], 0],
  ];
  for (const [label, shape, indexShape, axis] of cases) {
    it(`gathers the same values and shape as the stock kernel: ${label}`, () => {
      expectSameAsStock(label, ['GatherV2'], () =>
        tf.gather(seededTensor(shape, 5), ids(indexShape, shape[axis] ?? 1), axis),
      );
      const shapeOf = tf.tidy(() => tf.gather(seededTensor(shape, 5), ids(indexShape, shape[axis] ?? 1), axis).shape);
      assert.deepEqual(shapeOf, [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)]);
    });
  }

  it('leaves no tensor behind', () => {
    const table = seededTensor([1000, 64], 3);
    const tokens = ids([128, 32], 1000);
    tf.dispose(tf.gather(table, tokens));
    const before = tf.memory().numTensors;
    tf.dispose(tf.gather(table, tokens));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([table, tokens]);
  });

  it('rejects an index outside the axis with tfjs error, as the stock kernel does', () => {
    const table = seededTensor([100, 64], 1);
    const bad = tf.tensor(
      Int32Array.from({ length: 200 }, (_, i) => (i === 199 ? 100 : i % 100)),
      [200],
      'int32',
    );
    assert.throws(() => tf.gather(table, bad), /GatherV2: the index value 100 is not in \[0, 99\]/);
    tf.dispose([table, bad]);
  });
});
