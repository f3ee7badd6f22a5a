import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameOnCpu, seededTensor, skipNative, useWasmNative, valuesOn } from '../testing/backend-harness.js';

/** Pooled values match the cpu backend exactly; gradients up to rounding where overlapping windows add up. */
const POOL_TOLERANCE = (output: number): number => (output === 0 ? 0 : 1e-6);

type PoolCase = [string, number[], number | [number, number], number | [number, number], 'valid' | 'same'];

describe('native maxPool and its gradient on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const pools: PoolCase[] = [
    ['2x2 stride 2 valid (the tiled fast path)', [2, 8, 8, 3], 2, 2, 'valid'],
    ['2x2 stride 2 valid on odd sizes (uncovered last row and column)', [3, 11, 9, 5], 2, 2, 'valid'],
    ['2x2 stride 2 same on odd sizes (padded last window)', [2, 7, 9, 4], 2, 2, 'same'],
    ['2x2 stride 2 valid, batch 1, one channel', [1, 6, 6, 1], 2, 2, 'valid'],
    ['3x3 stride 2 same (overlapping windows)', [2, 7, 9, 4], 3, 2, 'same'],
    ['2x3 strides [1, 2] valid', [1, 6, 7, 2], [2, 3], [1, 2], 'valid'],
    ['2x2 stride 2 on the bench CNN first pool shape', [4, 26, 26, 32], 2, 2, 'valid'],
  ];
  for (const [label, shape, size, strides, pad] of pools) {
    it(`matches the cpu backend's maxPool values and gradient (${label})`, async () => {
      await expectSameOnCpu(
        label,
        () => {
          // Rounded values create ties, so the first-maximum rule is exercised too.
          const x = tf.round(seededTensor(shape, 11).mul(3));
          const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, size, strides, pad);
          const y = pool(x);
          return [y, tf.grad(pool)(x, seededTensor(y.shape, 12))];
        },
        POOL_TOLERANCE,
      );
    });
  }

  it('sends the gradient of an all-equal window to its first element', async () => {
    const [dx] = await valuesOn('wasm', () => [
      tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))(
        tf.ones([1, 2, 2, 1]),
        tf.tensor4d([5], [1, 1, 1, 1]),
      ),
    ]);
    assert.deepEqual(Array.from(dx ?? []), [5, 0, 0, 0]);
  });

  it('ignores NaN inputs when pooling, as the cpu backend does', async () => {
    await expectSameOnCpu(
      'NaN',
      () => {
        const x = tf.tensor4d([Number.NaN, 1, 2, Number.NaN, Number.NaN, Number.NaN, 3, -1], [1, 2, 4, 1]);
        const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid');
        return [pool(x), tf.grad(pool)(x, tf.ones([1, 1, 2, 1]))];
      },
      POOL_TOLERANCE,
    );
  });

  it('leaves no tensors behind over repeated pooling forward and backward passes', () => {
    const x = seededTensor([2, 6, 6, 3], 8);
    const step = () =>
      tf.tidy(() => {
        tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(x);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});
