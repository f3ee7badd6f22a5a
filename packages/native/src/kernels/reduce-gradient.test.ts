import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameAsStock, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { BROADCAST_GRAD_KERNEL } from './reduce-gradient.js';

/** The broadcast kernel and the kernels tfjs's own gradients run (stock wasm versions in the comparison). */
const STOCK = [BROADCAST_GRAD_KERNEL, 'Multiply', 'RealDiv', 'Sum', 'Mean'];

/** Counts the kernels named `name` that `fn` runs. */
async function kernelCalls(name: string, fn: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => fn());
  return info.kernels.filter((k) => k.name === name).length;
}

/** The gradient of `reduce` at seeded x for a seeded dy (not constant, so its broadcast shows). */
function gradOf(reduce: (x: tf.Tensor) => tf.Tensor, shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const x = seededTensor(shape, seed);
    const dy = seededTensor(reduce(x).shape, seed + 1);
    const [g] = tf.grads((v: tf.Tensor) => reduce(v))([x], dy);
    if (!g) throw new Error('no gradient');
    return g;
  });
}

describe('the Sum and Mean gradients as one native broadcast on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  // The reduced ResNet-18's reductions at batch 32 (32×32×3 input): batch norm's moments over [0, 1, 2]
  // at each stage's width, global average pooling over [1, 2]; then smaller and keepDims cases.
  const cases: Array<[string, number[], number | number[] | undefined, boolean]> = [
    ['moments of stage 1 [32, 32, 32, 20] over [0, 1, 2]', [32, 32, 32, 20], [0, 1, 2], false],
    ['moments of stage 2 [32, 16, 16, 40] over [0, 1, 2]', [32, 16, 16, 40], [0, 1, 2], false],
    ['moments of stage 3 [32, 8, 8, 80] over [0, 1, 2]', [32, 8, 8, 80], [0, 1, 2], false],
    ['moments of stage 4 [32, 4, 4, 160] over [0, 1, 2], keepDims', [32, 4, 4, 160], [0, 1, 2], true],
    ['global average pooling [32, 4, 4, 160] over [1, 2]', [32, 4, 4, 160], [1, 2], false],
    ['a trailing axis [7, 3, 5] over 2 (count 5, not a power of two)', [7, 3, 5], 2, false],
    ['every axis of [3, 7]', [3, 7], undefined, false],
  ];
  for (const [label, shape, axis, keepDims] of cases) {
    it(`gives tfjs's Mean gradient to the bit for ${label}`, () => {
      expectSameAsStock(label, STOCK, () => gradOf((x) => tf.mean(x, axis, keepDims), shape, 3));
    });
    it(`gives tfjs's Sum gradient to the bit for ${label}`, () => {
      expectSameAsStock(label, STOCK, () => gradOf((x) => tf.sum(x, axis, keepDims), shape, 5));
    });
  }

  it("runs one broadcast kernel for each of the moments' two means", async () => {
    const calls = await kernelCalls(BROADCAST_GRAD_KERNEL, () =>
      gradOf((x) => tf.moments(x, [0, 1, 2]).variance, [4, 6, 6, 8], 7),
    );
    assert.equal(calls, 2);
  });

  it('falls back to tfjs gradient for a reduction over non-consecutive axes, with the same values', async () => {
    const fn = (): tf.Tensor => gradOf((x) => tf.mean(x, [0, 2]), [6, 5, 4], 9);
    assert.equal(await kernelCalls(BROADCAST_GRAD_KERNEL, fn), 0);
    expectSameAsStock('mean over [0, 2]', STOCK, fn);
  });

  it('keeps NaN, infinities and the sign of zero in dy', () => {
    const special = [Number.NaN, Number.POSITIVE_INFINITY, -0, Number.NEGATIVE_INFINITY, 3e-39, -7];
    const dy = tf.tensor([...special, ...special.map((v) => -v)]);
    const x = seededTensor([2, 5, 6], 11);
    expectSameAsStock('special values', STOCK, () => {
      const [g] = tf.grads((v: tf.Tensor) => tf.mean(v, 1))([x], dy.reshape([2, 6]));
      return g as tf.Tensor;
    });
    tf.dispose([dy, x]);
  });

  it('differentiates the gradient again as tfjs does (second order)', () => {
    // d/dx Σ w ⊙ ∇ₓ Σ mean(x, [0, 1])²: the inner gradient's dy depends on x, so the outer pass goes
    // through the broadcast kernel's own gradient.
    expectSameAsStock('second order', STOCK, () => {
      const w = seededTensor([4, 3, 5], 13);
      const inner = (u: tf.Tensor): tf.Tensor => tf.sum(tf.square(tf.mean(u, [0, 1])));
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.grad(inner)(v), w)))(seededTensor([4, 3, 5], 17));
    });
  });

  it('leaves no tensor behind', () => {
    const fn = (): void => tf.dispose(gradOf((x) => tf.moments(x, [0, 1, 2]).variance, [8, 6, 6, 20], 19));
    fn();
    const before = tf.memory().numTensors;
    fn();
    assert.equal(tf.memory().numTensors, before);
  });
});
