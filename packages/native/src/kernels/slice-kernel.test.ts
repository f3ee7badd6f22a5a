import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { withStockKernels } from './kernel-registry.js';
import { expectSameAsStock, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';

/** Counts the Slice kernels `fn` runs. */
async function sliceCalls(fn: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => fn());
  return info.kernels.filter((k) => k.name === 'Slice').length;
}

describe('native Slice on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, number[], number[], number[]]> = [
    ["zero padding's gradient on the ResNet's first stage", [32, 34, 34, 20], [0, 1, 1, 0], [32, 32, 32, 20]],
    ["zero padding's gradient on its second stage", [32, 18, 18, 40], [0, 1, 1, 0], [32, 16, 16, 40]],
    ['a window in every axis of a rank-4 tensor', [5, 9, 11, 13], [1, 2, 3, 4], [3, 6, 7, 8]],
    ['the last axis only of a rank-2 tensor', [300, 50], [0, 7], [300, 31]],
    ['a rank-5 tensor', [3, 4, 5, 6, 70], [1, 0, 2, 1, 3], [2, 4, 3, 5, 60]],
    ['a rank-3 tensor with size -1 (to the end)', [40, 30, 20], [3, 2, 1], [-1, -1, -1]],
  ];
  for (const [label, shape, begin, size] of cases) {
    it(`copies the same values as the stock kernel for ${label}`, () => {
      expectSameAsStock(label, ['Slice'], () => tf.slice(seededTensor(shape, 3), begin, size));
    });
  }

  it('keeps NaN, infinities and negative zero bit for bit', () => {
    const special = [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40];
    const x = tf.tensor(
      Float32Array.from({ length: 8 * 64 * 10 }, (_, i) => special[i % 7] ?? i),
      [8, 64, 10],
    );
    const bits = (): number[] =>
      tf.tidy(() =>
        Array.from(new Uint32Array(Float32Array.from(tf.slice(x, [1, 2, 3], [6, 60, 6]).dataSync()).buffer)),
      );
    assert.deepEqual(bits(), withStockKernels(['Slice'], bits));
    x.dispose();
  });

  it("gives a padded conv's gradient through Slice as the stock kernel does, and leaves no tensor behind", async () => {
    const fn = (): tf.Tensor =>
      tf.tidy(() => {
        const w = seededTensor([4, 18, 18, 8], 9);
        const pad = (x: tf.Tensor): tf.Tensor =>
          tf.sum(
            tf.mul(
              tf.pad(x, [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ]),
              w,
            ),
          );
        return tf.grad(pad)(seededTensor([4, 16, 16, 8], 7));
      });
    assert.equal(await sliceCalls(fn), 1);
    expectSameAsStock('pad gradient', ['Slice'], fn);
    const before = tf.memory().numTensors;
    tf.dispose(fn());
    assert.equal(tf.memory().numTensors, before);
  });
});
