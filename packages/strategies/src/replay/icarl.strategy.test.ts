import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { classMeans, herding } from './herding.js';
import { IcarlStrategy, nmeScores } from './icarl.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

test('herding picks, step by step, the exemplar that brings the picked mean closest to the class mean', () => {
  const values = [0.1, 5, -5, 0.9, -1.1];
  const order = herding(Float32Array.from(values), 5, 1, 3);
  assert.deepEqual(order, [0, 4, 3]);
  // The 3 herded rows have the mean closest to the class mean of all 3-row subsets.
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const distance = (rows: number[]): number =>
    Math.abs(rows.reduce((a, r) => a + (values[r] as number), 0) / rows.length - mean);
  let best = Infinity;
  for (let a = 0; a < 5; a++)
    for (let b = a + 1; b < 5; b++) for (let c = b + 1; c < 5; c++) best = Math.min(best, distance([a, b, c]));
  assert.ok(Math.abs(distance(order) - best) < 1e-9);
  // In two dimensions: the first pick is the row nearest the mean.
  const points = Float32Array.from([3, 0, 0, 3, 1, 1, -1, 0, 0, -1]);
  assert.equal(herding(points, 5, 2, 1)[0], 2);
  assert.deepEqual(new Set(herding(points, 5, 2, 5)), new Set([0, 1, 2, 3, 4]), 'no row is picked twice');
});

test('the nearest-mean-of-exemplars classifier assigns each sample to the class with the nearest mean feature', () => {
  const before = tf.memory().numTensors;
  // Exemplar features (unit vectors) of classes 0 and 2; class 1 has none.
  const s = Math.SQRT1_2;
  const features = Float32Array.from([1, 0, s, s, 0, 1, -s, s]);
  const means = classMeans(features, Int32Array.from([0, 0, 2, 2]), 2);
  const mu0 = means.get(0) as Float32Array;
  assert.ok(
    Math.abs((mu0[0] as number) - Math.cos(Math.PI / 8)) < 1e-6 &&
      Math.abs((mu0[1] as number) - Math.sin(Math.PI / 8)) < 1e-6,
    'the mean is re-normalised',
  );
  const queries = [
    [1, 0],
    [0.2, 0.98],
    [-0.6, 0.8],
    [0.75, 0.66],
  ];
  const list = [...means].map(([cls, mean]) => ({ cls, mean }));
  const scores = tf.tidy(() => nmeScores(tf.tensor2d(queries), list, 3).arraySync());
  const predicted = scores.map((r) => r.indexOf(Math.max(...r)));
  assert.deepEqual(predicted, [0, 2, 2, 0]);
  assert.ok(
    scores.every((r) => (r[1] as number) < -1e8),
    'a class without exemplars is never predicted',
  );
  const [q, mu2] = [queries[1] as number[], means.get(2) as Float32Array];
  const d2 = (q[0]! - mu2[0]!) ** 2 + (q[1]! - mu2[1]!) ** 2;
  assert.ok(Math.abs((scores[1]?.[2] ?? 0) + d2) < 1e-5, 'the score is minus the squared distance');
  // A class with two means (two exemplar sets) scores by the nearer one.
  const two = tf.tidy(() =>
    nmeScores(tf.tensor2d([[-1, 0]]), [...list, { cls: 0, mean: Float32Array.from([-1, 0]) }], 3).arraySync(),
  );
  assert.ok(Math.abs(two[0]?.[0] ?? 1) < 1e-6, 'distance 0 to the second mean of class 0');
  assert.equal(tf.memory().numTensors, before);
});

test('iCaRL keeps bufferSize exemplars split evenly over the classes and predicts with their means', async () => {
  const info = infoOf(4, 4);
  const data = [experienceOf(0, randomBatch(60, 4, [0, 1], 21)), experienceOf(1, randomBatch(60, 4, [2, 3], 22))];
  const s = new IcarlStrategy({ bufferSize: 20 }, services(4));
  let model = tinyMlp(4, [8], 4, 2, 'relu');
  model = await trainWithHooks([s], model, data.slice(0, 1), info, { epochs: 3, batchSize: 10, learningRate: 0.1 });
  assert.deepEqual(
    [...s.exemplarCounts()],
    [
      [0, 10],
      [1, 10],
    ],
  );
  model = await trainWithHooks([s], model, data.slice(1), info, { epochs: 3, batchSize: 10, learningRate: 0.1 });
  assert.deepEqual([...s.exemplarCounts()].sort(), [
    [0, 5],
    [1, 5],
    [2, 5],
    [3, 5],
  ]);
  const before = tf.memory().numTensors;
  const predict = s.predictor({ model, info });
  assert.ok(predict);
  const probe = randomBatch(40, 4, [0, 1, 2, 3], 23);
  const predicted = tf.tidy(() => Array.from(tf.argMax(predict(tf.tensor2d(probe.x, [40, 4])), 1).dataSync()));
  const correct = predicted.filter((p, i) => p === probe.y[i]).length;
  assert.ok(correct / 40 > 0.5, `NME accuracy ${correct / 40}`);
  assert.equal(tf.memory().numTensors, before);
  s.dispose();
  model.dispose();
});

test("the iCaRL loss distils the old classes (targets: the frozen model's sigmoids) and classifies the current ones, by hand", async () => {
  const info = infoOf(4, 4);
  const bce = (z: number, t: number): number => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
  for (const [label, next] of [
    ['class-incremental', [2, 3]],
    ['domain-incremental', [0, 1]],
  ] as const) {
    const model = tinyMlp(4, [8], 4, 2, 'relu');
    const s = new IcarlStrategy({ bufferSize: 8 }, services(4));
    const e0 = experienceOf(0, randomBatch(20, 4, [0, 1], 31));
    await s.beforeExperience(experienceContext(model, e0, info));
    s.afterExperience(experienceContext(model, e0, info));
    const e1 = experienceOf(1, randomBatch(20, 4, [...next], 32));
    await s.beforeExperience(experienceContext(model, e1, info));
    const batch = randomBatch(6, 4, [...next], 33);
    const ctx = { ...experienceContext(model, e1, info), batch, epoch: 0 };
    const withTeacher = s.transformBatch(batch, ctx);
    const [got, z] = tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [6, 4]);
      const logits = model.forward(x, { training: false }) as tf.Tensor2D;
      const loss = s.loss({
        ...ctx,
        batch: withTeacher,
        x,
        logits,
        y: tf.tensor1d(batch.y, 'int32'),
        crossEntropy: tf.scalar(0),
      });
      return [loss.dataSync()[0] as number, logits.arraySync()];
    });
    // The teacher is the unchanged model, so its logits are z. Columns: the classes seen so far.
    const columns = label === 'class-incremental' ? [0, 1, 2, 3] : [0, 1];
    let sum = 0;
    z.forEach((row, i) =>
      columns.forEach((c) => {
        const old = label === 'class-incremental' && c < 2;
        sum += bce(row[c] as number, old ? sigmoid(row[c] as number) : batch.y[i] === c ? 1 : 0);
      }),
    );
    const expected = sum / (6 * columns.length);
    assert.ok(Math.abs(got - expected) < 1e-5, `${label}: ${got} vs ${expected}`);
    s.dispose();
    model.dispose();
  }
});
