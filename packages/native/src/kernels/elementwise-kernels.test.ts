import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { expectSameOnCpu, seededTensor, seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';

/** Elementwise results must be bit-identical to the cpu backend's. */
const EXACT = (): number => 0;

describe('native bias add, relu and one-pass relu gradient on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const adds: Array<[string, number[], number[]]> = [
    ['a conv bias [C] over NHWC', [4, 13, 13, 32], [32]],
    ['a bias shaped [1, 1, 1, C]', [2, 20, 20, 16], [1, 1, 1, 16]],
    ['the bias on the left', [64], [8, 16, 16, 64]],
    ['two same-shape tensors', [3, 40, 50], [3, 40, 50]],
    ['a dense bias [units] over [batch, units]', [128, 128], [128]],
  ];
  for (const [label, aShape, bShape] of adds) {
    it(`adds exactly like the cpu backend (${label})`, async () => {
      await expectSameOnCpu(label, () => [tf.add(seededTensor(aShape, 1), seededTensor(bShape, 2))], EXACT);
    });
  }

  it('leaves other broadcasts to the stock kernel, with the same values', async () => {
    await expectSameOnCpu(
      'column broadcast',
      () => [tf.add(seededTensor([64, 128], 3), seededTensor([64, 1], 4))],
      EXACT,
    );
  });

  it('computes relu exactly like the cpu backend, incl. -0, NaN and infinities', async () => {
    await expectSameOnCpu(
      'relu',
      () => {
        const xs = seededValues(6000, 13);
        xs.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e-30]);
        return [tf.relu(tf.tensor(xs, [6, 1000]))];
      },
      EXACT,
    );
  });

  it('computes the relu gradient exactly like the cpu backend, incl. zeros, negatives, infinities and NaN', async () => {
    await expectSameOnCpu(
      'relu grad',
      () => {
        const xs = seededValues(6000, 5),
          dys = seededValues(6000, 6);
        xs.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 2]);
        // An infinite dy where x <= 0 gives NaN (inf · 0) in tfjs's mul(dy, step(x)).
        dys.set([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, 1, 1, Number.POSITIVE_INFINITY, Number.NaN]);
        return [tf.grad((a: tf.Tensor) => tf.relu(a))(tf.tensor(xs, [6, 1000]), tf.tensor(dys, [6, 1000]))];
      },
      EXACT,
    );
  });

  it('matches the cpu backend through a conv + bias + relu layer under a gradient tape', async () => {
    const f = () => {
      const x = seededTensor([2, 9, 9, 4], 7),
        w = seededTensor([3, 3, 4, 8], 8),
        b = seededTensor([8], 9);
      const loss = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf
          .relu(tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 1, 'valid'), bi))
          .square()
          .sum();
      return tf.grads(loss)([x, w, b]);
    };
    await expectSameOnCpu('conv + bias + relu', f, () => 2e-5);
  });

  it('supports second-order gradients through the relu gradient', async () => {
    await expectSameOnCpu(
      'second order',
      () => {
        const x = seededTensor([64, 80], 10);
        const g = (a: tf.Tensor) =>
          tf
            .grad((b: tf.Tensor) => tf.relu(b).square().sum())(a)
            .sum();
        return [tf.grad(g)(x)];
      },
      EXACT,
    );
  });

  it('leaves no tensors behind over repeated relu and bias-add gradients', () => {
    const x = seededTensor([8, 32, 32], 11),
      b = seededTensor([32], 12);
    const step = () =>
      tf.tidy(() => {
        tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.relu(tf.add(a, c)).sum())([x, b]);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, b]);
  });
});
