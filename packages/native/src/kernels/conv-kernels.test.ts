import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameOnCpu, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';

/** Conv results agree with the cpu backend up to float rounding of the different summation orders. */
const CONV_TOLERANCE = (): number => 2e-5;

describe('native conv2d and its gradients on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, number[], number[], number | [number, number], 'valid' | 'same']> = [
    ['3x3 valid stride 1', [2, 9, 8, 3], [3, 3, 3, 4], 1, 'valid'],
    ['3x3 same stride 2', [2, 9, 8, 3], [3, 3, 3, 4], 2, 'same'],
    ['5x3 same, strides [1, 2]', [1, 7, 9, 2], [5, 3, 2, 3], [1, 2], 'same'],
    ['1x1 pointwise', [2, 4, 5, 6], [1, 1, 6, 3], 1, 'valid'],
    ['3x3 on one input channel (direct loop, no sgemm)', [3, 10, 9, 1], [3, 3, 1, 8], 1, 'valid'],
    ['3x3 on one input channel, same, stride 2, batch 1', [1, 11, 10, 1], [3, 3, 1, 20], 2, 'same'],
    [
      '3x3 on one input channel with more pixels than one filter-gradient chunk',
      [5, 28, 28, 1],
      [3, 3, 1, 32],
      1,
      'valid',
    ],
    [
      '3x3 with more pixels than one im2col chunk (several chunks and partial sums)',
      [3, 20, 20, 8],
      [3, 3, 8, 16],
      1,
      'valid',
    ],
    ['3x3 same, batch 1, one image larger than a chunk', [1, 30, 25, 3], [3, 3, 3, 6], 1, 'same'],
    ['the bench CNN second conv shape at batch 2', [2, 13, 13, 32], [3, 3, 32, 64], 1, 'valid'],
  ];
  for (const [label, xShape, fShape, strides, pad] of cases) {
    it(`matches the cpu backend's conv2d values, input and filter gradients (${label})`, async () => {
      await expectSameOnCpu(
        label,
        () => {
          const x = seededTensor(xShape, 1),
            f = seededTensor(fShape, 2);
          const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad);
          const y = conv(x, f);
          return [y, ...tf.grads(conv)([x, f], seededTensor(y.shape, 3))];
        },
        CONV_TOLERANCE,
      );
    });
  }

  for (const activation of ['linear', 'relu'] as const) {
    it(`matches the cpu backend's fused conv2d with bias and ${activation}, values and gradients`, async () => {
      await expectSameOnCpu(
        activation,
        () => {
          const x = seededTensor([2, 8, 8, 3], 4),
            f = seededTensor([3, 3, 3, 5], 5),
            bias = seededTensor([5], 6);
          const conv = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
            tf.fused.conv2d({
              x: a as tf.Tensor4D,
              filter: b as tf.Tensor4D,
              strides: 1,
              pad: 'same',
              bias: c,
              activation,
            });
          const y = conv(x, f, bias);
          return [y, ...tf.grads(conv)([x, f, bias], seededTensor(y.shape, 7))];
        },
        CONV_TOLERANCE,
      );
    });
  }

  it('leaves no tensors behind over repeated forward and backward passes', () => {
    const x = seededTensor([2, 6, 6, 2], 8),
      f = seededTensor([3, 3, 2, 4], 9);
    const step = () =>
      tf.tidy(() => {
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid').sum())([
          x,
          f,
        ]);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, f]);
  });
});
