import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining } from './batch-norm-training.js';
import { EngramBatchNormalization } from './batch-normalization.layer.js';
import { layerOf, REL_TOL, relDiff, trainingPass } from '../testing/batch-norm-comparison.js';

await tf.setBackend('cpu');

const CASES: Array<{ shape: number[]; seed: number }> = [
  { shape: [8, 5, 5, 6], seed: 1 },
  { shape: [32, 7], seed: 2 },
];

for (const { shape, seed } of CASES) {
  test(`the fused training op gives tfjs-layers' output and x, gamma, beta gradients on [${shape.join(', ')}]`, () => {
    const channels = shape[shape.length - 1] ?? 0;
    const x = tf.randomNormal(shape, 3, 2, 'float32', seed);
    const c = tf.randomNormal(shape, 0, 1, 'float32', seed + 10);
    const gamma = tf.randomUniform<tf.Rank.R1>([channels], 0.5, 1.5, 'float32', seed + 20);
    const beta = tf.randomNormal<tf.Rank.R1>([channels], 0, 1, 'float32', seed + 30);
    const fused = trainingPass(layerOf(true, shape, gamma, beta), x, c);
    const reference = trainingPass(layerOf(false, shape, gamma, beta), x, c);
    ['y', 'dx', 'dGamma', 'dBeta'].forEach((name, i) => {
      const d = relDiff(fused[i] ?? [], reference[i] ?? []);
      assert.ok(d <= REL_TOL, `${name}: relative difference ${d} > ${REL_TOL}`);
    });
    // The gradient of x is not trivially zero (Σ y ⊙ c with a random c): the comparison means something.
    assert.ok(Math.max(...Array.from(fused[1] ?? [], Math.abs)) > 1e-3);
    tf.dispose([x, c, gamma, beta]);
  });
}

test('the op returns the biased batch mean and variance of tf.moments', () => {
  tf.tidy(() => {
    const x = tf.randomNormal([6, 4, 3], -1, 3, 'float32', 5);
    const { y, mean, variance } = batchNormTraining(x, tf.ones([3]), tf.zeros([3]), 1e-3);
    const moments = tf.moments(x, [0, 1]);
    assert.ok(relDiff(mean.dataSync(), moments.mean.dataSync()) <= REL_TOL);
    assert.ok(relDiff(variance.dataSync(), moments.variance.dataSync()) <= REL_TOL);
    assert.deepEqual(y.shape, [6, 4, 3]);
    // With scale 1 and offset 0 every channel of y has mean ≈ 0 and variance ≈ v/(v + ε).
    const yMoments = tf.moments(y, [0, 1]);
    const v = variance.dataSync();
    yMoments.variance
      .dataSync()
      .forEach((got, i) => assert.ok(Math.abs(got - (v[i] ?? 0) / ((v[i] ?? 0) + 1e-3)) < 1e-5));
    yMoments.mean.dataSync().forEach((got) => assert.ok(Math.abs(got) < 1e-5));
  });
});

test('moving mean and variance after 3 training calls match tfjs-layers', () => {
  const shape = [16, 3, 3, 4];
  const gamma = tf.randomUniform<tf.Rank.R1>([4], 0.5, 1.5, 'float32', 7);
  const beta = tf.randomNormal<tf.Rank.R1>([4], 0, 1, 'float32', 8);
  const fused = layerOf(true, shape, gamma, beta);
  const reference = layerOf(false, shape, gamma, beta);
  for (let step = 0; step < 3; step++) {
    const x = tf.randomNormal(shape, step, 1 + step, 'float32', 40 + step);
    tf.tidy(() => [fused, reference].forEach((l) => l.apply(x, { training: true })));
    x.dispose();
  }
  const moving = (l: tf.layers.Layer): Float32Array[] =>
    l
      .getWeights()
      .slice(2)
      .map((w) => Float32Array.from(w.dataSync()));
  const [fm, fv] = moving(fused);
  const [rm, rv] = moving(reference);
  assert.ok(relDiff(fm ?? [], rm ?? []) <= REL_TOL, 'moving mean');
  assert.ok(relDiff(fv ?? [], rv ?? []) <= REL_TOL, 'moving variance');
  // After 3 updates with momentum 0.9 the statistics have moved off their initial zeros and ones.
  assert.ok(Math.max(...Array.from(fm ?? [], Math.abs)) > 0.05);
  tf.dispose([gamma, beta]);
});

test('training and gradient passes leave no tensor behind', () => {
  const shape = [8, 4, 4, 5];
  const gamma = tf.ones<tf.Rank.R1>([5]);
  const beta = tf.zeros<tf.Rank.R1>([5]);
  const layer = layerOf(true, shape, gamma, beta);
  const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
  const c = tf.randomNormal(shape, 0, 1, 'float32', 4);
  trainingPass(layer, x, c); // warm-up
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) trainingPass(layer, x, c);
  tf.tidy(() => {
    const r = batchNormTraining(x, gamma, beta, 1e-3);
    return r.y;
  }).dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([gamma, beta, x, c]);
});

test('batch norm over another axis than the last runs tfjs-layers own call, bit for bit', () => {
  const shape = [4, 3, 5, 5];
  const x = tf.randomNormal(shape, 1, 2, 'float32', 9);
  const outputs = [true, false].map((fused) => {
    const args = { axis: 1, momentum: 0.5 };
    const layer = fused ? new EngramBatchNormalization(args) : tf.layers.batchNormalization(args);
    return tf.tidy(() => Float32Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync()));
  });
  assert.deepEqual(outputs[0], outputs[1]);
  x.dispose();
});

test('a frozen batch norm layer (trainable false, as freeze leaves it) trains x as tfjs-layers does', () => {
  const shape = [8, 3, 3, 4];
  const gamma = tf.randomUniform<tf.Rank.R1>([4], 0.5, 1.5, 'float32', 61);
  const beta = tf.randomNormal<tf.Rank.R1>([4], 0, 1, 'float32', 62);
  const x = tf.randomNormal(shape, 2, 3, 'float32', 63);
  const c = tf.randomNormal(shape, 0, 1, 'float32', 64);
  const [fused, reference] = [true, false].map((f) => {
    const layer = layerOf(f, shape, gamma, beta);
    layer.trainable = false;
    return tf.tidy(() => {
      const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, c)))(x);
      return [dx, ...layer.getWeights().slice(2)].map((t) => Float32Array.from(t.dataSync()));
    });
  });
  ['dx', 'moving mean', 'moving variance'].forEach((name, i) => {
    const d = relDiff(fused?.[i] ?? [], reference?.[i] ?? []);
    assert.ok(d <= REL_TOL, `${name}: relative difference ${d} > ${REL_TOL}`);
  });
  tf.dispose([gamma, beta, x, c]);
});
