import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { distillationLoss, LWF_LOGITS, LwfStrategy } from './lwf.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, tinyMlp } from '../testing/fixtures.js';

await tf.setBackend('cpu');

test('LwF attaches the frozen teacher logits, its penalty is 0 while the student equals the teacher and grows as it drifts', () => {
  const model = tinyMlp(4, [5], 4, 1);
  const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
  const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));
  const s = new LwfStrategy({ alpha: 2, temperature: 2 });
  s.afterExperience(experienceContext(model, e0, infoOf(4, 4)));
  const batch = randomBatch(8, 4, [2, 3], 3);
  const ctx = { ...experienceContext(model, e1, infoOf(4, 4)), batch, epoch: 0 };
  const withTeacher = s.transformBatch(batch, ctx);
  assert.equal(withTeacher.extras?.[LWF_LOGITS]?.width, 4);
  const penalty = (): number =>
    tf.tidy(() => {
      const x = tf.tensor(batch.x, [8, 4]);
      const logits = model.forward(x, { training: false }) as tf.Tensor2D;
      const p = s.penalty({
        ...ctx,
        batch: withTeacher,
        x,
        logits,
        y: tf.tensor1d(batch.y, 'int32'),
        crossEntropy: tf.scalar(0),
      });
      return (p as tf.Scalar).dataSync()[0] as number;
    });
  assert.ok(Math.abs(penalty()) < 1e-6);
  const w = model.trainableVariables()[2]!;
  w.assign(tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.5, 'float32', 1))));
  assert.ok(penalty() > 1e-3);
  s.dispose();
  model.dispose();
});

test("after the head grew, the LwF teacher gives the old model's logits for the old classes", () => {
  const old = tinyMlp(4, [5], 2, 1);
  const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
  const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));
  const s = new LwfStrategy({ alpha: 1, temperature: 2 });
  s.afterExperience(experienceContext(old, e0, infoOf(4, 4)));
  // The grown model: 4 outputs; every weight moved since the teacher was frozen, the new columns are new.
  const grown = tinyMlp(4, [5], 4, 7);
  const oldWeights = old.trainableVariables();
  tf.tidy(() =>
    grown.trainableVariables().forEach((v, i) => {
      const o = oldWeights[i] as tf.Variable;
      const moved = tf.add(o, 0.3);
      if (v.shape.join() === o.shape.join()) return v.assign(moved);
      const last = v.rank - 1;
      const begin = v.shape.map((_, a) => (a === last ? (o.shape[a] ?? 0) : 0));
      const size = v.shape.map((d, a) => (a === last ? d - (o.shape[a] ?? 0) : d));
      v.assign(tf.concat([moved, tf.slice(v, begin, size)], last));
    }),
  );
  const batch = randomBatch(6, 4, [2, 3], 3);
  const before = grown.trainableVariables().map((v) => Array.from(v.dataSync()));
  const withTeacher = s.transformBatch(batch, { ...experienceContext(grown, e1, infoOf(4, 4)), batch, epoch: 0 });
  const stored = withTeacher.extras?.[LWF_LOGITS];
  assert.equal(stored?.width, 4);
  const expected = tf.tidy(() => Array.from(old.forward(tf.tensor(batch.x, [6, 4]), { training: false }).dataSync()));
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 2; c++) {
      const got = stored?.values[r * 4 + c] ?? NaN;
      assert.ok(
        Math.abs(got - (expected[r * 2 + c] ?? NaN)) < 1e-5,
        `row ${r} class ${c}: ${got} vs ${expected[r * 2 + c]}`,
      );
    }
  }
  assert.deepEqual(
    grown.trainableVariables().map((v) => Array.from(v.dataSync())),
    before,
    'the student weights are restored',
  );
  s.dispose();
  old.dispose();
  grown.dispose();
});

test('the distillation loss is T² times the batch mean of KL(softmax(teacher/T) ‖ softmax(student/T)), as computed by hand', () => {
  const before = tf.memory().numTensors;
  const teacher = [
    [1, 2, 0],
    [3, -1, 0.5],
  ];
  const student = [
    [0, 1, 1],
    [1, 1, 1],
  ];
  const T = 2;
  const softmax = (v: number[]): number[] => {
    const e = v.map((x) => Math.exp(x / T));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  let kl = 0;
  teacher.forEach((t, r) => {
    const p = softmax(t);
    const q = softmax(student[r] as number[]);
    p.forEach((pi, j) => {
      kl += pi * Math.log(pi / (q[j] as number));
    });
  });
  const expected = (T * T * kl) / 2;
  assert.ok(Math.abs(expected - 0.7916844) < 1e-6, `hand value ${expected}`);
  const got = tf.tidy(() => distillationLoss(tf.tensor2d(teacher), tf.tensor2d(student), T).dataSync()[0] as number);
  assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
  assert.ok(
    tf.tidy(() => Math.abs(distillationLoss(tf.tensor2d(teacher), tf.tensor2d(teacher), T).dataSync()[0] as number)) <
      1e-6,
    'zero when the student equals the teacher',
  );
  assert.equal(tf.memory().numTensors, before);
});

test("class-IL LwF distils every teacher output: raising a new class's logit on old data is penalised", () => {
  const model = tinyMlp(4, [5], 4, 1);
  const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 1));
  const e1 = experienceOf(1, randomBatch(20, 4, [2, 3], 2));
  const s = new LwfStrategy({ alpha: 1, temperature: 2 });
  s.afterExperience(experienceContext(model, e0, infoOf(4, 4)));
  const batch = randomBatch(8, 4, [2, 3], 3);
  const ctx = { ...experienceContext(model, e1, infoOf(4, 4)), batch, epoch: 0 };
  const withTeacher = s.transformBatch(batch, ctx);
  const stored = withTeacher.extras?.[LWF_LOGITS];
  assert.ok(stored);
  // Student = teacher with only the column of class 3 (never trained) raised by 2: the old columns match.
  const penalty = tf.tidy(() => {
    const teacher = tf.tensor2d(stored.values, [8, 4]);
    const raised = tf.add(teacher, tf.tensor2d([[0, 0, 0, 2]]));
    const p = s.penalty({
      ...ctx,
      batch: withTeacher,
      x: tf.tensor(batch.x, [8, 4]),
      logits: raised as tf.Tensor2D,
      y: tf.tensor1d(batch.y, 'int32'),
      crossEntropy: tf.scalar(0),
    });
    return (p as tf.Scalar).dataSync()[0] as number;
  });
  assert.ok(penalty > 0.05, `penalty ${penalty}`);
  s.dispose();
  model.dispose();
});
