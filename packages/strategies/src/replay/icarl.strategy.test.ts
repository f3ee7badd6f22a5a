import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '@engram/core';
import { classMeans, herding } from './herding.js';
import { ICARL_DEFAULTS, IcarlStrategy } from './icarl.strategy.js';
import { icarlLoss } from './icarl-loss.js';
import { nmeScores } from './nearest-mean.js';
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
  const s = new IcarlStrategy({ ...ICARL_DEFAULTS, bufferSize: 20 }, services(4));
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

test("iCaRL's class means are taken from its exemplars as the pipeline's preprocessing presents them (the context's prepare)", async () => {
  const info = infoOf(4, 4);
  const data = [experienceOf(0, randomBatch(60, 4, [0, 1, 2, 3], 31))];
  const s = new IcarlStrategy({ ...ICARL_DEFAULTS, bufferSize: 20 }, services(4));
  let model = tinyMlp(4, [8], 4, 3, 'relu');
  model = await trainWithHooks([s], model, data, info, { epochs: 1, batchSize: 10, learningRate: 0.1 });
  // A "preprocessing" that turns every row of class c into the unit vector e_(c+1 mod 4): with it, the mean
  // of class c is exactly the features of e_(c+1), so e_k is nearest to class k-1. The raw rows (clusters
  // around their own class's axis) put e_k nearest to class k instead.
  const unit = (axes: readonly number[]): Float32Array => {
    const x = new Float32Array(axes.length * 4);
    axes.forEach((a, i) => (x[i * 4 + a] = 1));
    return x;
  };
  const prepare = (b: Batch): Batch => ({ ...b, x: unit(Array.from(b.y, (c) => (c + 1) % 4)) });
  const probe = tf.tensor2d(unit([0, 1, 2, 3]), [4, 4]);
  const classify = (p: ((x: tf.Tensor) => tf.Tensor) | undefined): number[] =>
    tf.tidy(() => Array.from(tf.argMax((p as (x: tf.Tensor) => tf.Tensor)(probe), 1).dataSync()));
  assert.deepEqual(classify(s.predictor({ model, info, prepare })), [3, 0, 1, 2]);
  s.afterBatch(); // forget the cached means
  assert.deepEqual(classify(s.predictor({ model, info })), [0, 1, 2, 3], "without prepare: the raw rows' means");
  tf.dispose(probe);
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
    const s = new IcarlStrategy({ ...ICARL_DEFAULTS, bufferSize: 8 }, services(4));
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

test("iCaRL's distillation targets are the old model's sigmoid outputs: zero gradient on an old output that matches it", () => {
  const before = tf.memory().numTensors;
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
  const bce = (z: number, t: number): number => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
  // Two rows, columns 0 and 1 old (distilled), column 2 new; labels: column 2, then column 0 (an exemplar).
  const z = [
    [1.5, -0.5, 0.25],
    [-1, 2, -0.75],
  ];
  const t = [
    [1.5, 0.5, -3],
    [0.2, 2, 4],
  ];
  const labels = Int32Array.from([2, 0]);
  const paper = { classification: 'bce', distillation: 'sigmoid', temperature: 2 } as const;
  const [loss, grad] = tf.tidy(() => {
    const teacher = tf.tensor2d(t);
    const f = (logits: tf.Tensor): tf.Scalar => icarlLoss(logits as tf.Tensor2D, labels, [0, 1], teacher, paper);
    const g = tf.grad(f)(tf.tensor2d(z));
    return [f(tf.tensor2d(z)).dataSync()[0] as number, g.arraySync() as number[][]];
  });
  // Old columns: target σ(teacher) for every row, the exemplar's own label included; new column: one-hot.
  const targets = [
    [sigmoid(1.5), sigmoid(0.5), 1],
    [sigmoid(0.2), sigmoid(2), 0],
  ];
  let sum = 0;
  z.forEach((row, i) => row.forEach((v, j) => (sum += bce(v, targets[i]![j]!))));
  assert.ok(Math.abs(loss - sum / 6) < 1e-6, `${loss} vs ${sum / 6}`);
  // d/dz of the mean BCE is (σ(z) − target) / 6: zero where the student's logit equals the teacher's.
  grad.forEach((row, i) =>
    row.forEach((g, j) => assert.ok(Math.abs(g - (sigmoid(z[i]![j]!) - targets[i]![j]!) / 6) < 1e-6)),
  );
  assert.ok(Math.abs(grad[0]![0]!) < 1e-7 && Math.abs(grad[1]![1]!) < 1e-7);
  // Without distillation the exemplar's old column is pulled to its label instead.
  const plain = tf.tidy(
    () =>
      tf
        .grad((l: tf.Tensor) =>
          icarlLoss(l as tf.Tensor2D, labels, [0, 1], tf.tensor2d(t), { ...paper, distillation: 'none' }),
        )(tf.tensor2d(z))
        .arraySync() as number[][],
  );
  assert.ok(Math.abs(plain[1]![0]! - (sigmoid(-1) - 1) / 6) < 1e-6);
  assert.equal(tf.memory().numTensors, before);
});

test('the softmax variants of the iCaRL loss are cross-entropy over the seen outputs plus T²·KL on the old ones, by hand', () => {
  const before = tf.memory().numTensors;
  const z = [[0.5, -1, 2]];
  const t = [[1, 0, -1]];
  const temperature = 2;
  const got = tf.tidy(
    () =>
      icarlLoss(tf.tensor2d(z), Int32Array.from([2]), [0, 1], tf.tensor2d(t), {
        classification: 'cross-entropy',
        distillation: 'softmax',
        temperature,
      }).dataSync()[0] as number,
  );
  const logSumExp = (v: number[]): number => Math.log(v.reduce((a, x) => a + Math.exp(x), 0));
  const ce = logSumExp(z[0]!) - 2;
  const soft = (v: number[]): number[] =>
    v.map((x) => Math.exp(x / temperature - logSumExp(v.map((u) => u / temperature))));
  const [p, q] = [soft([1, 0]), soft([0.5, -1])];
  const kl = p.reduce((a, pi, i) => a + pi * Math.log(pi / q[i]!), 0);
  assert.ok(Math.abs(got - (ce + temperature * temperature * kl)) < 1e-5, `${got} vs ${ce + 4 * kl}`);
  assert.equal(tf.memory().numTensors, before);
});

test('class means without normalisation are the plain means of the exemplar features', () => {
  const means = classMeans(Float32Array.from([2, 0, 0, 4, 1, 1]), Int32Array.from([0, 0, 1]), 2, false);
  assert.deepEqual([...(means.get(0) as Float32Array)], [1, 2]);
  assert.deepEqual([...(means.get(1) as Float32Array)], [1, 1]);
});

test("iCaRL's random selection keeps a seeded random subset of the same size as herding, and 'output' evaluates with the network", async () => {
  const info = infoOf(4, 4);
  const data = [experienceOf(0, randomBatch(60, 4, [0, 1], 41))];
  const kept = async (options: Partial<typeof ICARL_DEFAULTS>, seed: number): Promise<number[]> => {
    const s = new IcarlStrategy({ ...ICARL_DEFAULTS, bufferSize: 10, ...options }, services(seed));
    const model = await trainWithHooks([s], tinyMlp(4, [8], 4, 2, 'relu'), data, info, { epochs: 1, batchSize: 10 });
    const rows = (s.state().arrays?.['set0.x']?.data as Float32Array | undefined) ?? new Float32Array();
    const predict = s.predictor({ model, info });
    const out = [...rows.slice(0, 8), predict ? 1 : 0];
    assert.deepEqual(
      [...s.exemplarCounts()],
      [
        [0, 5],
        [1, 5],
      ],
    );
    s.dispose();
    model.dispose();
    return out;
  };
  const herded = await kept({}, 4);
  const random = await kept({ selection: 'random' }, 4);
  assert.equal(herded.at(-1), 1, 'the nearest-mean classifier by default');
  assert.notDeepEqual(random, herded);
  assert.deepEqual(await kept({ selection: 'random' }, 4), random, 'the same seed draws the same exemplars');
  assert.notDeepEqual(await kept({ selection: 'random' }, 5), random, 'another seed draws others');
  assert.equal((await kept({ classifier: 'output' }, 4)).at(-1), 0, "no predictor: the network's outputs decide");
});
