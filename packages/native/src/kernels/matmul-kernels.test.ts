import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff, seededValues, useWasmNative, valuesOn, skipNative } from '../testing/backend-harness.js';
import { nativeKernels } from '../index.js';

const TOL = 2e-5;

async function expectSameOnCpu(label: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const cpu = await valuesOn('cpu', fn);
  const wasm = await valuesOn('wasm', fn);
  assert.equal(wasm.length, cpu.length, label);
  cpu.forEach((c, i) => {
    const scale = Math.max(1, ...Array.from(c, Math.abs));
    assert.ok(maxAbsDiff(c, wasm[i] ?? new Float32Array()) <= TOL * scale, `${label} output ${i}`);
  });
}

function t(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);
}

function operandShape(batch: number[], rows: number, cols: number, transpose: boolean): number[] {
  return transpose ? [...batch, cols, rows] : [...batch, rows, cols];
}

describe('native BatchMatMul and _FusedMatMul on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
    assert.ok(nativeKernels().includes('BatchMatMul') && nativeKernels().includes('_FusedMatMul'));
  });

  const batchCases: Array<[string, number[], number[]]> = [
    ['unbatched', [], []],
    ['batched', [3], [3]],
    ['a batched, b broadcast', [2, 3], []],
    ['a broadcast, b batched', [1], [4]],
  ];
  for (const [batchLabel, batchA, batchB] of batchCases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const label = `${batchLabel}, transposeA=${ta}, transposeB=${tb}`;
        it(`matches the cpu backend's matMul values (and gradients without broadcast) (${label})`, async () => {
          await expectSameOnCpu(label, () => {
            const a = t(operandShape(batchA, 5, 7, ta), 1),
              b = t(operandShape(batchB, 7, 6, tb), 2);
            const y = tf.matMul(a, b, ta, tb);
            // tfjs-core's BatchMatMul gradient does not reduce broadcast batch dims: forward only there.
            if (batchA.join() !== batchB.join()) return [y];
            const dy = t(y.shape, 3);
            const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb))([a, b], dy);
            return [y, da as tf.Tensor, db as tf.Tensor];
          });
        });
      }
    }
  }

  for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu'] as const) {
    for (const biasShape of [[6], [1], null]) {
      const label = `${activation}, bias ${biasShape ? `[${biasShape.join(',')}]` : 'none'}`;
      it(`matches the cpu backend's fused matMul values and gradients (${label})`, async () => {
        await expectSameOnCpu(label, () => {
          const a = t([9, 7], 4),
            b = t([7, 6], 5);
          const bias = biasShape ? t(biasShape, 6) : undefined;
          const f = (p: tf.Tensor, q: tf.Tensor, r?: tf.Tensor) =>
            tf.fused.matMul({
              a: p,
              b: q,
              ...(r ? { bias: r } : {}),
              activation,
              leakyreluAlpha: 0.1,
            });
          const y = f(a, b, bias);
          const dy = t(y.shape, 7);
          const grads = bias
            ? tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => f(p, q, r))([a, b, bias], dy)
            : tf.grads((p: tf.Tensor, q: tf.Tensor) => f(p, q))([a, b], dy);
          return [y, ...grads];
        });
      });
    }
  }

  // 24 products of 48×64×256 (786k multiply-adds each, 18.9M in all): too small to split one
  // GEMM over threads, enough to run the products side by side (the per-sample Fisher's shape).
  for (const [label, shapeA, shapeB] of [
    ['both batched', [24, 64, 256], [24, 256, 48]],
    ['a broadcast', [1, 64, 256], [24, 256, 48]],
  ] as const) {
    it(`matches the cpu backend for many small products run side by side (${label})`, async () => {
      await expectSameOnCpu(`side by side, ${label}`, () => tf.matMul(t([...shapeA], 14), t([...shapeB], 15)));
    });
  }

  it('matches the cpu backend for fused matMul with transposed operands and a relu', async () => {
    await expectSameOnCpu('fused transposed', () =>
      tf.fused.matMul({
        a: t([7, 9], 8),
        b: t([6, 7], 9),
        transposeA: true,
        transposeB: true,
        bias: t([6], 10),
        activation: 'relu',
      }),
    );
  });

  it('falls back to the stock kernel for prelu and still matches the cpu backend', async () => {
    await expectSameOnCpu('prelu', () =>
      tf.fused.matMul({
        a: t([4, 3], 11),
        b: t([3, 5], 12),
        activation: 'prelu',
        preluActivationWeights: t([5], 13),
      }),
    );
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.matMul(t([4, 3], 1), t([2, 3], 2), false, true).add(1);
    });
    assert.equal(tf.memory().numTensors, before);
  });
});
