import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { LossContext } from '@engram/core';
import { LWF_LOGITS, LwfStrategy } from './lwf.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, tinyMlp } from '../testing/fixtures.js';

await tf.setBackend('cpu');

test('LwF attaches the frozen teacher logits, its penalty is 0 while the student equals the teacher and grows as it drifts', () => {
  const model = tinyMlp(4, [5], 4, 1);
  const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
  const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));
  const s = new LwfStrategy({ alpha: 2, temperature: 2 });
  s.beforeExperience(experienceContext(model, e0, infoOf(4, 4)));
  s.afterExperience(experienceContext(model, e0, infoOf(4, 4)));
  s.beforeExperience(experienceContext(model, e1, infoOf(4, 4)));
  const batch = randomBatch(8, 4, [2, 3], 3);
  const ctx = { ...experienceContext(model, e1, infoOf(4, 4)), batch, epoch: 0 };
  const withTeacher = s.transformBatch(batch, ctx);
  assert.equal(withTeacher.extras?.[LWF_LOGITS]?.width, 4);
  const penalty = (): number => tf.tidy(() => {
    const x = tf.tensor(batch.x, [8, 4]);
    const logits = model.forward(x, { training: false }) as tf.Tensor2D;
    const p = s.penalty({ ...ctx, batch: withTeacher, x, logits, y: tf.tensor1d(batch.y, 'int32'), crossEntropy: tf.scalar(0) } as LossContext);
    return (p as tf.Scalar).dataSync()[0] as number;
  });
  assert.ok(Math.abs(penalty()) < 1e-6);
  const w = model.trainableVariables()[2]!;
  w.assign(tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.5, 'float32', 1))));
  assert.ok(penalty() > 1e-3);
  s.dispose();
  model.dispose();
});

test('after the head grew, the LwF teacher gives the old model\'s logits for the old classes', () => {
  const old = tinyMlp(4, [5], 2, 1);
  const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
  const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));
  const s = new LwfStrategy({ alpha: 1, temperature: 2 });
  s.beforeExperience(experienceContext(old, e0, infoOf(4, 4)));
  s.afterExperience(experienceContext(old, e0, infoOf(4, 4)));
  // The grown model: 4 outputs; every weight moved since the teacher was frozen, the new columns are new.
  const grown = tinyMlp(4, [5], 4, 7);
  const oldWeights = old.trainableVariables();
  tf.tidy(() => grown.trainableVariables().forEach((v, i) => {
    const o = oldWeights[i] as tf.Variable;
    const moved = tf.add(o, 0.3);
    if (v.shape.join() === o.shape.join()) return v.assign(moved);
    const last = v.rank - 1;
    const begin = v.shape.map((_, a) => (a === last ? (o.shape[a] ?? 0) : 0));
    const size = v.shape.map((d, a) => (a === last ? d - (o.shape[a] ?? 0) : d));
    v.assign(tf.concat([moved, tf.slice(v, begin, size)], last));
  }));
  s.beforeExperience(experienceContext(grown, e1, infoOf(4, 4)));
  const batch = randomBatch(6, 4, [2, 3], 3);
  const before = grown.trainableVariables().map((v) => Array.from(v.dataSync()));
  const withTeacher = s.transformBatch(batch, { ...experienceContext(grown, e1, infoOf(4, 4)), batch, epoch: 0 });
  const stored = withTeacher.extras?.[LWF_LOGITS];
  assert.equal(stored?.width, 4);
  const expected = tf.tidy(() => Array.from((old.forward(tf.tensor(batch.x, [6, 4]), { training: false }) as tf.Tensor).dataSync()));
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 2; c++) {
      const got = stored?.values[r * 4 + c] ?? NaN;
      assert.ok(Math.abs(got - (expected[r * 2 + c] ?? NaN)) < 1e-5, `row ${r} class ${c}: ${got} vs ${expected[r * 2 + c]}`);
    }
  }
  assert.deepEqual(grown.trainableVariables().map((v) => Array.from(v.dataSync())), before, 'the student weights are restored');
  s.dispose();
  old.dispose();
  grown.dispose();
});
