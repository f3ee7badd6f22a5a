import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  disposeReplacedModel,
  InsertLayerAdjustment,
  Rng,
  WidenLayerAdjustment,
  type AdjustContext,
  type Adjustment,
  type EngramModel,
  type LossContext,
} from '@engram/core/internal';
import { EwcStrategy } from '../regularization/ewc.strategy.js';
import { LWF_LOGITS, LwfStrategy } from '../regularization/lwf.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { snapshotVariables } from './tensor-state.js';

await tf.setBackend('cpu');

const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));

/** Widens both hidden layers and inserts an identity layer, as the adjust stage does at experience 1. */
async function operate(model: EngramModel, noise: number): Promise<EngramModel> {
  const [h1, h2] = model.network.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.name);
  const ctx: AdjustContext = { experience: e1, info: infoOf(4, 4), seenClasses: [0, 1, 2, 3], rng: new Rng(5) };
  let current = model;
  const steps: Adjustment[] = [
    new WidenLayerAdjustment({ layers: [h1 ?? '', h2 ?? ''], units: 8, noise, fromExperience: 1 }),
    new InsertLayerAdjustment({
      after: h1 ?? '',
      activation: 'relu',
      kernelSize: 3,
      init: 'identity',
      fromExperience: 1,
    }),
  ];
  for (const a of steps) {
    const next = await a.apply(current, ctx);
    if (next && next !== current) {
      disposeReplacedModel(current, next);
      current = next;
    }
  }
  return current;
}

function penaltyOf(s: EwcStrategy, model: EngramModel): number {
  return tf.tidy(() => {
    const p = s.penalty({ model } as unknown as LossContext);
    return p ? (p.toScalar().dataSync()[0] as number) : 0;
  });
}

test('after widen-layer and insert-layer, EWC anchors exactly the parts that existed and leaves copies and new layers free', async () => {
  const start = tf.memory().numTensors;
  const model = tinyMlp(4, [5, 6], 4, 1, 'relu');
  const s = new EwcStrategy('ewc', { lambda: 2, fisherSamples: 10, labels: 'true' }, services());
  const vars = model.trainableVariables();
  s.consolidate(new Map(vars.map((v, i) => [`#${i}`, tf.ones(v.shape)])), snapshotVariables(vars));
  const grown = await operate(model, 0);
  s.adaptModel(experienceContext(grown, e1, infoOf(4, 4)));
  const after = grown.trainableVariables();
  assert.equal(after.length, 8, 'three hidden layers and the head');
  const [anchors] = s.penalties;
  assert.deepEqual(
    [...(anchors?.anchor.keys() ?? [])].sort(),
    ['#0', '#1', '#4', '#5', '#6', '#7'],
    'no anchor for the inserted layer (#2, #3)',
  );
  // The weights are where the surgery put the anchors: no penalty before training moves them.
  const p0 = penaltyOf(s, grown);
  assert.ok(p0 < 1e-9, `penalty right after the surgery ${p0}`);
  // Moving a copied unit's incoming weights costs nothing; moving an original unit's costs.
  const k0 = after[0] as tf.Variable;
  const bump = (column: number): number => {
    const saved = tf.clone(k0);
    tf.tidy(() => k0.assign(tf.add(k0, tf.oneHot(tf.fill([4], column, 'int32'), 8).mul(3))));
    const p = penaltyOf(s, grown);
    k0.assign(saved);
    saved.dispose();
    return p;
  };
  assert.ok(Math.abs(bump(6) - p0) < 1e-6, 'a copy (column 6 of 8; 5 existed) is free');
  assert.ok(bump(2) - p0 > 10, 'an original unit is anchored');
  s.dispose();
  grown.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("after widen-layer and insert-layer, the LwF teacher still gives the old model's logits", async () => {
  const model = tinyMlp(4, [5, 6], 4, 1, 'relu');
  const s = new LwfStrategy({ alpha: 1, temperature: 2 });
  s.afterExperience(experienceContext(model, e0, infoOf(4, 4)));
  const batch = randomBatch(8, 4, [2, 3], 3);
  const oldLogits = tf.tidy(
    () => model.forward(tf.tensor(batch.x, [8, 4]), { training: false }).dataSync() as Float32Array,
  );
  const grown = await operate(model, 0.05);
  s.adaptModel(experienceContext(grown, e1, infoOf(4, 4)));
  // Train the grown model a little so teacher ≠ student.
  for (const v of grown.trainableVariables())
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 2))));
  const withTeacher = s.transformBatch(batch, { ...experienceContext(grown, e1, infoOf(4, 4)), batch, epoch: 0 });
  const teacher = withTeacher.extras?.[LWF_LOGITS]?.values ?? new Float32Array(0);
  assert.equal(teacher.length, oldLogits.length);
  let worst = 0;
  teacher.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (oldLogits[i] ?? NaN)))));
  assert.ok(worst < 1e-5, `teacher differs from the old model by ${worst}`);
  s.dispose();
  grown.dispose();
});
