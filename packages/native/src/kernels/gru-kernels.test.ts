import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  GRU_SEQUENCE_GRAD_KERNEL as CORE_GRAD,
  GRU_SEQUENCE_KERNEL as CORE_FORWARD,
  gruSequence,
} from '@engram/core/internal';
import type { GruGate } from '@engram/core/internal';
import { expectSameOnCpu, seededTensor, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { GRU_SEQUENCE_GRAD_KERNEL, GRU_SEQUENCE_KERNEL } from './gru-kernels.js';

/** Output and gradients (xw, recurrent kernel, recurrent bias) of `Σ gru(xw) ⊙ c`, from seeded values. */
function sequence(batch: number, steps: number, units: number, gate: GruGate, returnSequences: boolean) {
  return (): tf.Tensor[] => {
    const xw = tf.mul(seededTensor([batch, steps, 3 * units], 1), 2);
    // Scaled as an initialiser would: with weights of ±1 over 64 units the recurrence is chaotic, and
    // the cpu backend's own matmul order already moves its states by 2e-5 on wasm's tfjs ops.
    const recurrent = tf.mul(seededTensor([units, 3 * units], 2), 1 / Math.sqrt(units));
    const bias = seededTensor([3 * units], 3);
    const c = seededTensor(returnSequences ? [batch, steps, units] : [batch, units], 4);
    const f = (a: tf.Tensor, r: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      tf.sum(tf.mul(gruSequence(a as tf.Tensor3D, r as tf.Tensor2D, b as tf.Tensor1D, { gate, returnSequences }), c));
    const y = gruSequence(xw as tf.Tensor3D, recurrent as tf.Tensor2D, bias as tf.Tensor1D, { gate, returnSequences });
    return [y, ...tf.grads(f)([xw, recurrent, bias])];
  };
}

describe('native fused reset-after GRU sequence on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  it('registers its kernels under the names core calls', () => {
    assert.equal(GRU_SEQUENCE_KERNEL, CORE_FORWARD);
    assert.equal(GRU_SEQUENCE_GRAD_KERNEL, CORE_GRAD);
    assert.ok(tf.getKernel(GRU_SEQUENCE_KERNEL, 'wasm') && tf.getKernel(GRU_SEQUENCE_GRAD_KERNEL, 'wasm'));
  });

  const cases: Array<[number, number, number, GruGate, boolean]> = [
    [1, 1, 4, 'sigmoid', false],
    [4, 7, 12, 'sigmoid', false],
    [4, 7, 12, 'sigmoid', true],
    [6, 9, 20, 'hardSigmoid', true],
    [32, 16, 64, 'sigmoid', false],
  ];
  for (const [batch, steps, units, gate, sequences] of cases) {
    it(`gives the cpu backend's tfjs-op output and gradients within 1e-5 (B ${batch}, T ${steps}, H ${units}, ${gate}, ${sequences ? 'every state' : 'the last'})`, async () => {
      await expectSameOnCpu('gru sequence', sequence(batch, steps, units, gate, sequences), () => 1e-5);
    });
  }

  it('frees everything but its output, with and without a gradient tape', () => {
    const run = sequence(8, 6, 10, 'sigmoid', true);
    tf.dispose(tf.tidy(run));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(run));
    assert.equal(tf.memory().numTensors, before);
  });
});
