import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  expectSameAsStock,
  seededTensor,
  seededValues,
  skipNative,
  useWasmNative,
} from '../testing/backend-harness.js';
import { findWasmBackend } from '../wasm/wasm-backend.js';

/** Shapes of the batch-norm chain at batch 32 (stage 1 activations, a channel vector, a scalar). */
const FULL = [32, 32, 32, 20];

describe(
  'native Sub, Multiply, RealDiv, SquaredDifference, Square and Cast on the wasm backend',
  { skip: skipNative },
  () => {
    before(async () => {
      const result = await useWasmNative();
      assert.ok(result.loaded, result.description);
    });

    const cases: Array<[string, string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number[], number[]]> = [
      ['x − mean (channel vector on the right)', 'Sub', tf.sub, FULL, [20]],
      ['mean − x ([1, 1, 1, C] on the left)', 'Sub', tf.sub, [1, 1, 1, 20], FULL],
      ['same shapes', 'Sub', tf.sub, [32, 16, 16, 40], [32, 16, 16, 40]],
      ['dy · scale (channel vector)', 'Multiply', tf.mul, FULL, [20]],
      ['expanded dy [1, 1, 1, C] · ones (the Mean gradient)', 'Multiply', tf.mul, [1, 1, 1, 20], FULL],
      ['x · scalar', 'Multiply', tf.mul, FULL, [1]],
      ['scalar · x', 'Multiply', tf.mul, [], FULL],
      ['x / scalar (the Mean gradient)', 'RealDiv', tf.div, FULL, []],
      ['channel vector / x', 'RealDiv', tf.div, [20], FULL],
      ['(x − mean)² (channel vector)', 'SquaredDifference', tf.squaredDifference, FULL, [1, 1, 1, 20]],
      ['another broadcast (stock kernel)', 'Multiply', tf.mul, [32, 1, 1, 20], [32, 8, 8, 20]],
    ];
    for (const [label, kernel, op, aShape, bShape] of cases) {
      it(`computes ${kernel} bit-identically to the stock kernel: ${label}`, () => {
        expectSameAsStock(label, [kernel], () => op(seededTensor(aShape, 1), seededTensor(bShape, 2)));
      });
    }

    it('keeps zeros, infinities and NaN as the stock kernels do', () => {
      const special = (seed: number): tf.Tensor => {
        const v = seededValues(8192, seed);
        v.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-38, -3e38, 0]);
        return tf.tensor(v, [8, 1024]);
      };
      for (const [kernel, op] of [
        ['Sub', tf.sub],
        ['Multiply', tf.mul],
        ['RealDiv', tf.div],
        ['SquaredDifference', tf.squaredDifference],
      ] as const) {
        expectSameAsStock(kernel, [kernel], () => op(special(3), special(4)));
      }
      expectSameAsStock('Square', ['Square'], () => tf.square(special(5)));
    });

    it('squares bit-identically to the stock kernel', () => {
      expectSameAsStock('Square', ['Square'], () => tf.square(seededTensor(FULL, 6)));
    });

    it('leaves integer tensors to the stock kernels', () => {
      const a = tf.tensor1d(
        Array.from({ length: 5000 }, (_, i) => i - 2500),
        'int32',
      );
      const got = tf.tidy(() => Array.from(tf.mul(a, tf.scalar(3, 'int32')).dataSync()));
      assert.deepEqual(got.slice(0, 3), [-7500, -7497, -7494]);
      a.dispose();
    });

    it('casts to the same dtype without a copy, frees nothing early, and converts other dtypes as before', () => {
      const backend = findWasmBackend();
      assert.ok(backend);
      const x = seededTensor([64, 64], 7);
      const before = tf.memory().numTensors;
      const y = tf.cast(x, 'float32');
      assert.equal(backend.refCount(x.dataId), 2);
      x.dispose();
      assert.deepEqual(Array.from(y.dataSync().slice(0, 4)), Array.from(seededValues(4, 7)));
      y.dispose();
      assert.equal(tf.memory().numTensors, before - 1);
      const ints = tf.tensor1d([1.7, -2.2, 3], 'float32');
      assert.deepEqual(Array.from(tf.tidy(() => tf.cast(ints, 'int32').dataSync())), [1, -2, 3]);
      ints.dispose();
    });

    it('keeps the number of tensors flat', () => {
      const x = seededTensor(FULL, 8);
      const c = seededTensor([20], 9);
      const run = (): void =>
        tf.dispose(tf.tidy(() => [tf.sub(x, c), tf.mul(x, c), tf.div(x, 3), tf.squaredDifference(x, c), tf.square(x)]));
      run();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) run();
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, c]);
    });
  },
);
