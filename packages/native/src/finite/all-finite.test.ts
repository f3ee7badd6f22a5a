import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { allFinite } from './all-finite.js';

/** Core's tf-ops probe (poisoned-batch.ts): x·0 summed is finite only when every value is. */
function finiteByOps(parts: readonly tf.Tensor[]): boolean {
  const probe = tf.tidy(() => tf.addN(parts.map((t) => tf.sum(tf.mul(t, 0)))));
  const finite = Number.isFinite(probe.dataSync()[0]);
  probe.dispose();
  return finite;
}

/** Gradients and batch-norm statistics shaped as a small conv net's, seeded, with `poison` written at `[part, index]`. */
function parts(poison?: { part: number; index: number; value: number }): tf.Tensor[] {
  const shapes = [[3, 3, 3, 20], [20], [20], [20], [40000, 10], [10]];
  return shapes.map((shape, p) => {
    const values = seededValues(tf.util.sizeFromShape(shape), p + 1);
    if (poison?.part === p) values[poison.index < 0 ? values.length + poison.index : poison.index] = poison.value;
    return p === 2 || p === 3 ? tf.variable(tf.tensor(values, shape), false) : tf.tensor(values, shape);
  });
}

describe('the native finiteness probe on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, { part: number; index: number; value: number } | undefined, boolean]> = [
    ['no value is poisoned', undefined, true],
    ['the last element of one gradient is NaN', { part: 0, index: -1, value: Number.NaN }, false],
    ['the last element of the 400,000-value gradient is NaN', { part: 4, index: -1, value: Number.NaN }, false],
    ['a gradient holds +Infinity in its first element', { part: 5, index: 0, value: Number.POSITIVE_INFINITY }, false],
    ['a moving variance holds +Infinity', { part: 3, index: -1, value: Number.POSITIVE_INFINITY }, false],
    ['a moving mean holds -Infinity', { part: 2, index: 7, value: Number.NEGATIVE_INFINITY }, false],
    ['the largest finite float32 is there', { part: 4, index: 123, value: 3.4028234663852886e38 }, true],
  ];
  for (const [label, poison, finite] of cases) {
    it(`answers ${String(finite)} as the tf-ops probe does when ${label}`, () => {
      const list = parts(poison);
      assert.equal(finiteByOps(list), finite);
      assert.equal(allFinite(list), finite);
      tf.dispose(list);
    });
  }

  it('creates no tensor and runs no kernel', async () => {
    const list = parts({ part: 4, index: -1, value: Number.NaN });
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => {
      assert.equal(allFinite(list), false);
      return [];
    });
    assert.equal(info.kernels.length, 0);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(list);
  });

  it('answers true for no tensors and for an empty tensor', () => {
    const empty = tf.tensor([], [0, 4]);
    assert.equal(allFinite([]), true);
    assert.equal(allFinite([empty]), true);
    empty.dispose();
  });

  it('leaves an int32 tensor, a disposed one, or the cpu backend to the tf-ops probe (undefined)', async () => {
    const ints = tf.tensor([1, 2, 3], [3], 'int32');
    assert.equal(allFinite([ints]), undefined);
    ints.dispose();
    assert.equal(allFinite([ints]), undefined);
    await tf.setBackend('cpu');
    const onCpu = tf.tensor([1, Number.NaN]);
    assert.equal(allFinite([onCpu]), undefined);
    onCpu.dispose();
    await tf.setBackend('wasm');
  });
});
