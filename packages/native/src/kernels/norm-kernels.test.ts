import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameAsStock, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { BATCH_NORM_GRAD_KERNEL } from './batch-norm-gradient.js';

/** The reduced ResNet-18's batch-norm inputs at batch 32 (nf 20): stem / stage 1, stage 2, stage 4. */
const RESNET_SHAPES: number[][] = [
  [32, 32, 32, 20],
  [32, 16, 16, 40],
  [32, 4, 4, 160],
];

/** Per-channel batch-norm parameters of `channels` values; the variance is positive. */
function params(
  channels: number,
  seed: number,
): { mean: tf.Tensor; variance: tf.Tensor; offset: tf.Tensor; scale: tf.Tensor } {
  return {
    mean: seededTensor([channels], seed),
    variance: tf.add(tf.abs(seededTensor([channels], seed + 1)), 0.05),
    offset: seededTensor([channels], seed + 2),
    scale: seededTensor([channels], seed + 3),
  };
}

describe('native batch norm, Mean and Sum on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  for (const shape of RESNET_SHAPES) {
    it(`normalises ${JSON.stringify(shape)} bit-identically to the stock FusedBatchNorm`, () => {
      expectSameAsStock('FusedBatchNorm', ['FusedBatchNorm'], () => {
        const p = params(shape[3] ?? 1, 7);
        return tf.batchNorm(seededTensor(shape, 1), p.mean, p.variance, p.offset, p.scale, 1e-5);
      });
    });

    it(`takes the batch-norm gradient of ${JSON.stringify(shape)} in one pass, bit-identical to tfjs's`, () => {
      const x = seededTensor(shape, 2);
      const w = seededTensor(shape, 3);
      const p = params(shape[3] ?? 1, 11);
      const grads = tf.grads(
        (xs: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor) =>
          tf.sum(tf.mul(tf.batchNorm(xs, mean, variance, offset, scale, 1e-5), w)),
      );
      const inputs = [x, p.mean, p.variance, p.offset, p.scale];
      expectSameAsStock('FusedBatchNorm gradient', ['FusedBatchNorm', BATCH_NORM_GRAD_KERNEL], () => grads(inputs));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(grads(inputs));
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([...inputs, w]);
    });
  }

  const reductions: Array<[string, number[], number[], boolean]> = [
    ['batch-norm moments: axes [0, 1, 2] of stage 1', [32, 32, 32, 20], [0, 1, 2], false],
    ['moments with keepDims, stage 2', [32, 16, 16, 40], [0, 1, 2], true],
    ['global average pooling: axes [1, 2]', [32, 4, 4, 160], [1, 2], false],
    ['a middle axis', [16, 50, 12], [1], true],
    ['the last axis', [64, 300], [1], false],
  ];
  for (const [label, shape, axes, keepDims] of reductions) {
    it(`takes the Mean bit-identically to the stock kernel (${label})`, () => {
      expectSameAsStock(label, ['Mean'], () => tf.mean(seededTensor(shape, 4), axes, keepDims));
    });
    it(`takes the Sum bit-identically to the stock kernel (${label})`, () => {
      expectSameAsStock(label, ['Sum'], () => tf.sum(seededTensor(shape, 5), axes, keepDims));
    });
  }

  it('gives Mean the shape the stock kernel gives, and leaves non-consecutive axes to it', () => {
    const x = seededTensor([4, 8, 8, 16], 6);
    assert.deepEqual(
      tf.tidy(() => tf.mean(x, [1, 2], true).shape),
      [4, 1, 1, 16],
    );
    expectSameAsStock('axes [0, 2]', ['Mean'], () => tf.mean(x, [0, 2]));
    x.dispose();
  });

  it('runs tfjs-layers batch normalisation in training (moments, normalise, moving averages) as the stock kernels do', () => {
    const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
    const x = seededTensor([32, 16, 16, 40], 8);
    layer.apply(x, { training: true });
    const names = ['FusedBatchNorm', BATCH_NORM_GRAD_KERNEL, 'Mean', 'Sub', 'Multiply', 'Square', 'Cast', 'RealDiv'];
    const run = (): tf.Tensor[] => {
      const reset = layer
        .getWeights()
        .map((w, i) => (i === 3 ? tf.onesLike(w) : i === 0 ? tf.onesLike(w) : tf.zerosLike(w)));
      layer.setWeights(reset);
      tf.dispose(reset);
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      return [y, ...layer.getWeights().map((w) => w.clone())];
    };
    expectSameAsStock('layers batch norm', names, run);
    layer.dispose();
    x.dispose();
  });
});
