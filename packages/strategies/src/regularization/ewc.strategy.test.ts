import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type LossContext, type QuadraticPenalty } from '@engram/core';
import { EwcStrategy } from './ewc.strategy.js';
import { batchedFisherApplies, diagonalFisher, fisherPerSample } from './fisher.js';
import { MultiHeadModel } from '../adjust/multi-head.model.js';
import { snapshotVariables } from '../common/tensor-state.js';
import {
  batchOf,
  experienceContext,
  experienceOf,
  infoOf,
  randomBatch,
  services,
  tinyMlp,
} from '../testing/fixtures.js';
import { trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

/** A 2→2 linear model with known weights. */
function linear(kernel: number[], bias: number[]): LayersEngramModel {
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] });
  tf.tidy(() => net.setWeights([tf.tensor2d(kernel, [2, 2]), tf.tensor1d(bias)]));
  return new LayersEngramModel(net);
}

function penaltyOf(s: EwcStrategy, model: LayersEngramModel): number {
  return tf.tidy(() => {
    const p = s.penalty({ model } as unknown as LossContext);
    return p ? (p.toScalar().dataSync()[0] as number) : 0;
  });
}

test('the EWC penalty is 0 at the anchor and its gradient equals lambda * F * (theta - theta*)', () => {
  const model = linear([1, 2, 3, 4], [0.5, -0.5]);
  const s = new EwcStrategy('ewc', { lambda: 2, fisherSamples: 10, labels: 'true' }, services());
  const [k, b] = model.trainableVariables() as [tf.Variable, tf.Variable];
  const fisher = new Map<string, tf.Tensor>([
    ['#0', tf.tensor2d([1, 2, 3, 4], [2, 2])],
    ['#1', tf.tensor1d([0.5, 1])],
  ]);
  s.consolidate(fisher, snapshotVariables([k, b]));
  assert.equal(penaltyOf(s, model), 0);
  k.assign(tf.tensor2d([1.5, 2.5, 3.5, 4.5], [2, 2]));
  b.assign(tf.tensor1d([0.5, 0.5]));
  // λ/2 Σ F d² = 1 · (0.25·(1+2+3+4) + 1·1) = 3.5
  assert.ok(Math.abs(penaltyOf(s, model) - 3.5) < 1e-6);
  const { grads, value } = tf.variableGrads(
    () => (s.penalty({ model } as unknown as LossContext) as QuadraticPenalty).toScalar(),
    [k, b],
  );
  assert.deepEqual(Array.from(grads[k.name]!.dataSync()), [1, 2, 3, 4]); // 2 · F · 0.5
  assert.deepEqual(Array.from(grads[b.name]!.dataSync()), [0, 2]); // 2 · [0.5, 1] · [0, 1]
  tf.dispose([value, ...Object.values(grads)]);
  s.dispose();
  model.dispose();
});

test("after the head grew, EWC still anchors the old classes' weights and leaves the new ones free", () => {
  const s = new EwcStrategy('ewc', { lambda: 2, fisherSamples: 10, labels: 'true' }, services());
  const old = linear([1, 2, 3, 4], [0.5, -0.5]);
  const [k0, b0] = old.trainableVariables() as [tf.Variable, tf.Variable];
  s.consolidate(
    new Map<string, tf.Tensor>([
      ['#0', tf.ones([2, 2])],
      ['#1', tf.ones([2])],
    ]),
    snapshotVariables([k0, b0]),
  );
  // The grown head: 3 outputs, the first two columns as before (+1 on column 0), column 2 new.
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
  tf.tidy(() => net.setWeights([tf.tensor2d([2, 2, 9, 4, 4, 9], [2, 3]), tf.tensor1d([0.5, -0.5, 9])]));
  const grown = new LayersEngramModel(net);
  const [k, b] = grown.trainableVariables() as [tf.Variable, tf.Variable];
  // λ/2 Σ F d² over the old 2×2 block and bias[0..1] = 1 · (1 + 1) = 2: the new column (9s) is not penalised.
  assert.ok(Math.abs(penaltyOf(s, grown) - 2) < 1e-6, `penalty ${penaltyOf(s, grown)}`);
  const { grads, value } = tf.variableGrads(
    () => (s.penalty({ model: grown } as unknown as LossContext) as QuadraticPenalty).toScalar(),
    [k, b],
  );
  assert.deepEqual(Array.from(grads[k.name]!.dataSync()), [2, 0, 0, 2, 0, 0]); // 2 · F · d on the old block, 0 on the new column
  assert.deepEqual(Array.from(grads[b.name]!.dataSync()), [0, 0, 0]);
  tf.dispose([value, ...Object.values(grads)]);
  s.dispose();
  old.dispose();
  grown.dispose();
});

test('the Fisher of a linear softmax on one sample is the squared outer product of x and (p - onehot)', () => {
  const model = linear([0, 0, 0, 0], [0, 0]);
  const f = diagonalFisher(model, batchOf([[1, 2]], [0]));
  assert.deepEqual(Array.from(f.get('#0')!.dataSync()), [0.25, 0.25, 1, 1]);
  assert.deepEqual(Array.from(f.get('#1')!.dataSync()), [0.25, 0.25]);
  for (const t of f.values()) t.dispose();
  model.dispose();
});

test('the batched Fisher equals the per-sample loop to 1e-6 (plain and multi-head, true and predicted labels)', () => {
  const base = tinyMlp(4, [5, 3], 4, 3);
  const data = randomBatch(37, 4, [0, 1, 2, 3], 5, 1);
  const multi = new MultiHeadModel(base.network);
  multi.setTaskClasses(1, [1, 3]);
  for (const model of [base, multi]) {
    assert.ok(batchedFisherApplies(model));
    for (const labels of ['true', 'predicted'] as const) {
      const fast = diagonalFisher(model, data, labels, 16);
      const slow = fisherPerSample(model, data, labels);
      assert.equal(fast.size, 6);
      for (const [name, t] of slow) {
        const a = fast.get(name)!.dataSync();
        const b2 = t.dataSync();
        let max = 0;
        for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b2[i] as number)));
        assert.ok(max < 1e-6, `${name} (${labels}) differs by ${max}`);
        assert.ok(
          b2.some((v) => v > 0),
          `${name} is all zero`,
        );
      }
      for (const t of [...fast.values(), ...slow.values()]) t.dispose();
    }
  }
  base.dispose();
});

test('online EWC decays the running Fisher by gamma and anchors at the latest weights', () => {
  const model = linear([1, 2, 3, 4], [0, 0]);
  const [k, b] = model.trainableVariables() as [tf.Variable, tf.Variable];
  const s = new EwcStrategy('online-ewc', { lambda: 1, fisherSamples: 10, labels: 'true', gamma: 0.5 }, services());
  s.consolidate(
    new Map<string, tf.Tensor>([
      ['#0', tf.tensor2d([2, 2, 2, 2], [2, 2])],
      ['#1', tf.tensor1d([4, 4])],
    ]),
    snapshotVariables([k, b]),
  );
  k.assign(tf.tensor2d([0, 0, 0, 0], [2, 2]));
  s.consolidate(
    new Map<string, tf.Tensor>([
      ['#0', tf.tensor2d([1, 0, 1, 0], [2, 2])],
      ['#1', tf.tensor1d([0, 1])],
    ]),
    snapshotVariables([k, b]),
  );
  assert.equal(s.penalties.length, 1);
  assert.deepEqual(Array.from(s.penalties[0]!.importance.get('#0')!.dataSync()), [2, 1, 2, 1]);
  assert.deepEqual(Array.from(s.penalties[0]!.importance.get('#1')!.dataSync()), [2, 3]);
  assert.deepEqual(Array.from(s.penalties[0]!.anchor.get('#0')!.dataSync()), [0, 0, 0, 0]);
  assert.equal(penaltyOf(s, model), 0);
  s.dispose();
  model.dispose();
});

test('EWC keeps one penalty per past experience, estimated from the trained batches, without leaking tensors', async () => {
  const before = tf.memory().numTensors;
  const model = tinyMlp(4, [6], 4, 2);
  const s = new EwcStrategy('ewc', { lambda: 100, fisherSamples: 50, labels: 'true' }, services());
  const e0 = experienceOf(0, randomBatch(64, 4, [0, 1], 11));
  const e1 = experienceOf(1, randomBatch(64, 4, [2, 3], 12));
  await trainWithHooks([s], model, [e0, e1], infoOf(4, 4));
  assert.equal(s.penalties.length, 2);
  const ctx = experienceContext(model, e1, infoOf(4, 4));
  assert.ok(penaltyOf(s, ctx.model) > 0);
  s.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('the batched Fisher handles a sequential model that starts with an explicit input layer (as the engine builds it)', () => {
  const net = tf.sequential();
  net.add(tf.layers.inputLayer({ inputShape: [4] }));
  net.add(
    tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
  );
  net.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  const model = new LayersEngramModel(net);
  assert.ok(batchedFisherApplies(model));
  const data = randomBatch(12, 4, [0, 1, 2], 3);
  const fast = diagonalFisher(model, data);
  const slow = fisherPerSample(model, data);
  for (const [k, t] of slow) {
    const a = fast.get(k)!.dataSync();
    t.dataSync().forEach((v, i) => assert.ok(Math.abs(v - (a[i] as number)) < 1e-6));
  }
  tf.dispose([...fast.values(), ...slow.values()]);
  model.dispose();
});

test('EWC reuses its penalty while the variables and anchors stay the same, and rebuilds it when either changes', () => {
  const model = linear([1, 2, 3, 4], [0.5, -0.5]);
  const s = new EwcStrategy('online-ewc', { lambda: 2, fisherSamples: 10, labels: 'true' }, services());
  const [k, b] = model.trainableVariables() as [tf.Variable, tf.Variable];
  const ctx = { model } as unknown as LossContext;
  assert.equal(s.penalty(ctx), undefined, 'no penalty before the first consolidation');
  s.consolidate(
    new Map<string, tf.Tensor>([
      ['#0', tf.ones([2, 2])],
      ['#1', tf.ones([2])],
    ]),
    snapshotVariables([k, b]),
  );
  const first = s.penalty(ctx);
  assert.ok(first);
  assert.equal(s.penalty(ctx), first, 'same variables and anchors: the same penalty');
  k.assign(tf.tensor2d([2, 2, 3, 4], [2, 2]));
  assert.ok(Math.abs(penaltyOf(s, model) - 1) < 1e-6, 'the reused penalty reads the current weights');
  // A new consolidation (online: the running Fisher doubles, the anchor moves to the current weights).
  s.consolidate(
    new Map<string, tf.Tensor>([
      ['#0', tf.ones([2, 2])],
      ['#1', tf.ones([2])],
    ]),
    snapshotVariables([k, b]),
  );
  const second = s.penalty(ctx);
  assert.notEqual(second, first);
  assert.equal(penaltyOf(s, model), 0, 'anchored at the new weights');
  // Another model (other variables) gets its own terms.
  const other = linear([0, 0, 0, 0], [0, 0]);
  assert.notEqual(s.penalty({ model: other } as unknown as LossContext), second);
  // λ/2 · Σ F d² with F = 2 (the running Fisher) and d = θ* (its weights are 0): 1 · 2 · (4 + 4 + 9 + 16 + 0.25 + 0.25) = 67.
  assert.ok(Math.abs(penaltyOf(s, other) - 67) < 1e-5, `penalty ${penaltyOf(s, other)}`);
  s.dispose();
  assert.equal(s.penalty(ctx), undefined, 'nothing after dispose');
  model.dispose();
  other.dispose();
});
