import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff, seededValues, useWasmNative, valuesOn, skipNative } from '../testing/backend-harness.js';

function t(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);
}

/** Elementwise results must be bit-identical to the cpu backend's. */
async function expectExactlyCpu(label: string, fn: () => tf.Tensor[]): Promise<void> {
  const cpu = await valuesOn('cpu', fn);
  const wasm = await valuesOn('wasm', fn);
  assert.equal(wasm.length, cpu.length, label);
  cpu.forEach((c, i) => {
    const w = wasm[i] ?? new Float32Array();
    assert.equal(w.length, c.length, `${label} output ${i} length`);
    c.forEach((v, j) => assert.ok(Object.is(v, w[j]) || v === w[j], `${label} output ${i}[${j}]: cpu ${v}, wasm ${w[j]}`));
  });
}

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
      await expectExactlyCpu(label, () => [tf.add(t(aShape, 1), t(bShape, 2))]);
    });
  }

  it('leaves other broadcasts to the stock kernel, with the same values', async () => {
    await expectExactlyCpu('column broadcast', () => [tf.add(t([64, 128], 3), t([64, 1], 4))]);
  });

  it('computes relu exactly like the cpu backend, incl. -0, NaN and infinities', async () => {
    await expectExactlyCpu('relu', () => {
      const xs = seededValues(6000, 13);
      xs.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e-30]);
      return [tf.relu(tf.tensor(xs, [6, 1000]))];
    });
  });

  it('computes the relu gradient exactly like the cpu backend, incl. zeros, negatives, infinities and NaN', async () => {
    await expectExactlyCpu('relu grad', () => {
      const xs = seededValues(6000, 5), dys = seededValues(6000, 6);
      xs.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 2]);
      // An infinite dy where x <= 0 gives NaN (inf · 0) in tfjs's mul(dy, step(x)).
      dys.set([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, 1, 1, Number.POSITIVE_INFINITY, Number.NaN]);
      return [tf.grad((a: tf.Tensor) => tf.relu(a))(tf.tensor(xs, [6, 1000]), tf.tensor(dys, [6, 1000]))];
    });
  });

  it('matches the cpu backend through a conv + bias + relu layer under a gradient tape', async () => {
    const f = () => {
      const x = t([2, 9, 9, 4], 7), w = t([3, 3, 4, 8], 8), b = t([8], 9);
      const loss = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.relu(tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 1, 'valid'), bi)).square().sum();
      return tf.grads(loss)([x, w, b]);
    };
    const cpu = await valuesOn('cpu', f);
    const wasm = await valuesOn('wasm', f);
    cpu.forEach((c, i) => {
      const scale = Math.max(1, ...Array.from(c, Math.abs));
      assert.ok(maxAbsDiff(c, wasm[i] ?? new Float32Array()) <= 2e-5 * scale, `gradient ${i}`);
    });
  });

  it('supports second-order gradients through the relu gradient', async () => {
    await expectExactlyCpu('second order', () => {
      const x = t([64, 80], 10);
      const g = (a: tf.Tensor) => tf.grad((b: tf.Tensor) => tf.relu(b).square().sum())(a).sum();
      return [tf.grad(g)(x)];
    });
  });

  it('leaves no tensors behind over repeated relu and bias-add gradients', () => {
    const x = t([8, 32, 32], 11), b = t([32], 12);
    const step = () => tf.tidy(() => {
      tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.relu(tf.add(a, c)).sum())([x, b]);
    });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, b]);
  });
});
