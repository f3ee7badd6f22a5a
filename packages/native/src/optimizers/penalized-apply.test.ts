import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { addPenaltyGradients, type VariablePenalties } from '@engram/core/internal';
import { load } from '../index.js';
import { seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { applyWithPenalties } from './penalized-apply.js';

let run = 0;

interface Outcome {
  readonly values: number[][];
  readonly penalty: number;
}

/**
 * Three steps of `make()` on two variables with EWC-style penalties (two terms on the kernel, one on
 * the bias — a kernel of 2,100 elements spans two of the addon's blocks), either fused natively or by
 * adding the gradients with tfjs ops and the stock `applyGradients`.
 */
async function train(make: () => tf.Optimizer, fused: boolean): Promise<Outcome> {
  const id = run++;
  const vars = tf.tidy(() => [
    tf.variable(tf.tensor(seededValues(2100, 1), [300, 7]), true, `pen${id}/w`),
    tf.variable(tf.tensor(seededValues(7, 2)), true, `pen${id}/b`),
  ]);
  const [w, b] = vars as [tf.Variable, tf.Variable];
  const term = (v: tf.Variable, seed: number, scale: number) => ({
    anchor: tf.tensor(seededValues(v.size, seed), v.shape),
    importance: tf.tidy(() => tf.abs(tf.tensor(seededValues(v.size, seed + 1), v.shape))),
    scale,
  });
  const penalties: VariablePenalties = [[term(w, 10, 25), term(w, 20, 0.5)], [term(b, 30, 25)]];
  const opt = make();
  let penalty = 0;
  for (let s = 0; s < 3; s++) {
    const grads = [w, b].map((v, i) => ({
      name: v.name,
      tensor: tf.tensor(seededValues(v.size, 100 + 10 * s + i), v.shape),
    }));
    if (fused) {
      const value = applyWithPenalties(opt, grads, penalties);
      assert.ok(value !== undefined, 'the native kernels took the update');
      penalty += value;
    } else {
      const added = addPenaltyGradients(
        grads.map((g) => g.tensor),
        vars,
        penalties,
      );
      penalty += added.value;
      opt.applyGradients(grads.map((g, i) => ({ name: g.name, tensor: added.grads[i] ?? g.tensor })));
      tf.dispose(added.grads.filter((g) => g && !grads.some((e) => e.tensor === g)));
    }
    tf.dispose(grads.map((g) => g.tensor));
  }
  const state = await opt.getWeights();
  const values = [...vars, ...state.slice(1).map((x) => x.tensor)].map((t) => Array.from(t.dataSync()));
  tf.dispose(state[0]?.tensor);
  opt.dispose();
  tf.dispose([...vars, ...penalties.flatMap((p) => (p ?? []).flatMap((t) => [t.anchor, t.importance]))]);
  return { values, penalty };
}

describe('optimizer updates with fused quadratic penalties', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const makers: Array<[string, () => tf.Optimizer]> = [
    ['Adam', () => tf.train.adam(0.01)],
    ['SGD', () => tf.train.sgd(0.1)],
    ['Momentum', () => tf.train.momentum(0.1, 0.9)],
    ['Nesterov momentum', () => tf.train.momentum(0.1, 0.9, true)],
    ['RMSProp', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
    // tfjs's centered RMSProp takes sqrt(ms − (mg² + ε)): a larger ε makes small gradients NaN.
    ['centered RMSProp', () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-12, true)],
  ];
  for (const [name, make] of makers) {
    it(`${name} with fused penalties leaves weights and state bit-identical to adding the gradients with tfjs`, async () => {
      load();
      const fused = await train(make, true);
      const reference = await train(make, false);
      assert.deepEqual(fused.values, reference.values);
      assert.ok(reference.penalty > 1, `penalty ${reference.penalty} is not trivial`);
      assert.ok(
        Math.abs(fused.penalty - reference.penalty) <= 1e-5 * reference.penalty,
        `${fused.penalty} vs ${reference.penalty}`,
      );
      assert.ok(fused.values.flat().every(Number.isFinite));
    });
  }

  it('declines an optimizer it has no native update for, changing nothing', () => {
    const v = tf.variable(tf.ones([4]), true, `pen${run++}/adagrad`);
    const opt = tf.train.adagrad(0.1);
    const g = tf.ones([4]);
    const anchor = tf.zeros([4]);
    const value = applyWithPenalties(opt, [{ name: v.name, tensor: g }], [[{ anchor, importance: g, scale: 1 }]]);
    assert.equal(value, undefined);
    assert.deepEqual(Array.from(v.dataSync()), [1, 1, 1, 1]);
    tf.dispose([v, g, anchor]);
    opt.dispose();
  });

  it('does not leak tensors over many penalised updates', async () => {
    await train(() => tf.train.adam(0.01), true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await train(() => tf.train.adam(0.01), true);
    assert.equal(tf.memory().numTensors, before);
  });
});
