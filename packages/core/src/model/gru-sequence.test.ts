import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.js';
import { GruResetAfter } from './gru-reset-after.layer.js';
import type { GruGate } from './gru-sequence.js';

await tf.setBackend('cpu');

interface Case {
  readonly batch: number;
  readonly steps: number;
  readonly features: number;
  readonly units: number;
  readonly sequences: boolean;
  readonly gate: GruGate;
}

const normals = (rng: Rng, n: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, () => scale * rng.normal());

/** Two layers with the same random weights: the fused sequence op and the unrolled tfjs loop. */
function pair(c: Case, rng: Rng): [GruResetAfter, GruResetAfter] {
  const weights = [
    normals(rng, c.features * 3 * c.units, 0.5),
    normals(rng, c.units * 3 * c.units, 0.5),
    normals(rng, 6 * c.units, 0.5),
  ];
  const shapes = [
    [c.features, 3 * c.units],
    [c.units, 3 * c.units],
    [2, 3 * c.units],
  ];
  return [true, false].map((fast) => {
    const layer = new GruResetAfter({ units: c.units, returnSequences: c.sequences, recurrentActivation: c.gate });
    layer.fastPath = fast ? 'always' : 'never';
    layer.apply(tf.input({ shape: [c.steps, c.features] }));
    tf.tidy(() => layer.setWeights(weights.map((w, i) => tf.tensor(w, shapes[i]))));
    return layer;
  }) as [GruResetAfter, GruResetAfter];
}

/** The layer's output and the gradients of `Σ y ⊙ c` for the kernel, recurrent kernel, bias and input. */
function outputAndGrads(layer: GruResetAfter, x: tf.Tensor, c: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const [kernel, recurrent, bias] = variables;
    const objective = (xi: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(xi) as tf.Tensor, c));
    const y = layer.apply(x) as tf.Tensor;
    const { grads } = tf.variableGrads(() => objective(x), variables);
    const dx = tf.grad(objective)(x);
    const byName = (v: tf.Variable | undefined): Float32Array =>
      Float32Array.from(grads[v?.name ?? '']?.dataSync() ?? []);
    return [
      y.dataSync() as Float32Array,
      byName(kernel),
      byName(recurrent),
      byName(bias),
      dx.dataSync() as Float32Array,
    ].map((a) => Float32Array.from(a));
  });
}

const cases: Case[] = [
  { batch: 1, steps: 2, features: 3, units: 2, sequences: false, gate: 'sigmoid' },
  { batch: 3, steps: 5, features: 4, units: 6, sequences: false, gate: 'sigmoid' },
  { batch: 3, steps: 5, features: 4, units: 6, sequences: true, gate: 'sigmoid' },
  { batch: 8, steps: 12, features: 7, units: 16, sequences: true, gate: 'hardSigmoid' },
  { batch: 5, steps: 9, features: 6, units: 10, sequences: false, gate: 'hardSigmoid' },
  { batch: 16, steps: 20, features: 8, units: 33, sequences: false, gate: 'sigmoid' },
];

for (const c of cases) {
  const label = `B ${c.batch}, T ${c.steps}, H ${c.units}, ${c.gate}, ${c.sequences ? 'every state' : 'the last state'}`;
  test(`the fused GRU sequence equals the unrolled loop: output and every weight and input gradient within 1e-5 (${label})`, () => {
    const rng = new Rng(c.batch * 100 + c.steps);
    const before = tf.memory().numTensors;
    const [fast, unrolled] = pair(c, rng);
    const x = tf.tensor3d(normals(rng, c.batch * c.steps * c.features, 1), [c.batch, c.steps, c.features]);
    const outShape = c.sequences ? [c.batch, c.steps, c.units] : [c.batch, c.units];
    const weights = tf.tensor(normals(rng, tf.util.sizeFromShape(outShape), 1), outShape);
    const got = outputAndGrads(fast, x, weights);
    const want = outputAndGrads(unrolled, x, weights);
    const names = ['output', 'kernel', 'recurrent kernel', 'bias', 'input'];
    want.forEach((w, i) => {
      const g = got[i] ?? new Float32Array();
      assert.equal(g.length, w.length, names[i]);
      assert.ok(w.length > 0, `${names[i]} has values`);
      const scale = Math.max(1, ...Array.from(w, Math.abs));
      const delta = w.reduce((m, v, j) => Math.max(m, Math.abs(v - (g[j] ?? Number.NaN))), 0);
      assert.ok(delta <= 1e-5 * scale, `${names[i]}: max |Δ| ${delta} (scale ${scale})`);
    });
    tf.dispose([x, weights]);
    fast.dispose();
    unrolled.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor outlives the comparison');
  });
}

test('repeated fused training steps and predictions leave the tensor count unchanged', () => {
  const rng = new Rng(21);
  const c: Case = { batch: 4, steps: 6, features: 3, units: 5, sequences: true, gate: 'sigmoid' };
  const [layer, other] = pair(c, rng);
  other.dispose();
  const x = tf.tensor3d(normals(rng, 4 * 6 * 3, 1), [4, 6, 3]);
  const optimizer = tf.train.sgd(0.1);
  const loss = (): tf.Scalar => tf.mean(tf.square(layer.apply(x) as tf.Tensor));
  const step = (): number => tf.tidy(() => optimizer.minimize(loss, true)?.dataSync()[0] ?? Number.NaN);
  const first = step();
  const before = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 20; i++) last = step();
  tf.tidy(() => (layer.apply(x) as tf.Tensor).dataSync());
  assert.equal(tf.memory().numTensors, before, 'tensor count after 20 more steps and a prediction');
  assert.ok(Number.isFinite(last) && last < first, `loss ${first} → ${last}`);
  optimizer.dispose();
  tf.dispose(x);
  layer.dispose();
});
