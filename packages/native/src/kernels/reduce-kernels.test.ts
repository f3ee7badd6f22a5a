import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff, seededValues, useWasmNative, valuesOn, skipNative } from '../testing/backend-harness.js';
import { accelerateOptimizer } from '../optimizers/optimizer-patch.js';

function t(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);
}

describe('native Sum and no-copy Identity on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, number[], number | number[] | undefined, boolean]> = [
    ['leading axis', [33, 17], 0, false],
    ['two leading axes', [3, 11, 5], [0, 1], false],
    ['two leading axes given out of order, keepDims', [3, 11, 5], [1, 0], true],
    ['all axes', [4, 6], undefined, false],
    ['a trailing axis', [4, 6], 1, false],
    ['non-consecutive axes (stock kernel)', [3, 4, 5], [0, 2], false],
  ];
  for (const [label, shape, axis, keepDims] of cases) {
    it(`sums like the cpu backend over ${label}`, async () => {
      const fn = () => tf.sum(t(shape, 1), axis, keepDims);
      const [cpu] = await valuesOn('cpu', fn);
      const [wasm] = await valuesOn('wasm', fn);
      assert.ok(cpu && wasm && maxAbsDiff(cpu, wasm) < 1e-5);
      const shapeOn = tf.tidy(fn).shape;
      assert.deepEqual(shapeOn, tf.tidy(() => tf.sum(tf.zeros(shape), axis, keepDims)).shape);
    });
  }

  it('clones without copying, and a clone outlives its source', () => {
    const before = tf.memory().numTensors;
    const x = t([3, 4], 2);
    const expected = x.arraySync();
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(y.arraySync(), expected);
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('keeps a clone of a variable unchanged when the optimizer updates the variable in place', () => {
    const v = tf.variable(tf.ones([4]), true, 'identity-test/v');
    const snapshot = tf.clone(v);
    const opt = accelerateOptimizer(tf.train.sgd(0.5));
    opt.applyGradients({ [v.name]: tf.ones([4]) });
    assert.deepEqual(Array.from(snapshot.dataSync()), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(v.dataSync()), [0.5, 0.5, 0.5, 0.5]);
    tf.dispose([v, snapshot]);
    opt.dispose();
  });
});
