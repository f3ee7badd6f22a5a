import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type LossContext, type QuadraticPenalty } from '@engram/core';
import { MasStrategy } from './mas.strategy.js';
import { perSampleDiagonal, perSampleLoop } from './fisher.js';
import { batchOf, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

const squaredNorm = (logits: tf.Tensor): tf.Scalar => tf.sum<tf.Scalar>(tf.square(logits));

test('MAS importance is the mean absolute gradient of the squared output norm (hand-checked on a linear model)', () => {
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], useBias: false })] });
  net.setWeights([tf.tensor2d([1, 0, 0, 1], [2, 2])]);
  const model = new LayersEngramModel(net);
  // z = xW; ∂‖z‖²/∂W = 2 xᵀz. x = [1, 2] → [[2, 4], [4, 8]]; x = [−1, 0] → [[2, 0], [0, 0]]
  const data = batchOf(
    [
      [1, 2],
      [-1, 0],
    ],
    [0, 0],
  );
  const fast = perSampleDiagonal(model, data, 'true', squaredNorm, 'abs');
  const slow = perSampleLoop(model, data, 'true', squaredNorm, 'abs');
  const name = '#0';
  assert.deepEqual(Array.from(fast.get(name)!.dataSync()), [2, 2, 2, 4]);
  assert.deepEqual(Array.from(slow.get(name)!.dataSync()), [2, 2, 2, 4]);
  tf.dispose([...fast.values(), ...slow.values()]);
  model.dispose();
});

test('MAS merges importances with alpha and penalises drift from the anchor', async () => {
  const before = tf.memory().numTensors;
  const model = tinyMlp(4, [5], 4, 9);
  const s = new MasStrategy({ lambda: 3, alpha: 0.5, samples: 40 }, services());
  await trainWithHooks([s], model, [experienceOf(0, randomBatch(48, 4, [0, 1], 1))], infoOf(4, 4));
  const first = new Map([...s.importances].map(([k, t]) => [k, Array.from(t.dataSync())]));
  await trainWithHooks([s], model, [experienceOf(1, randomBatch(48, 4, [2, 3], 2))], infoOf(4, 4));
  assert.ok([...first.values()].flat().some((v) => v > 0));
  // after the second experience Ω = ½ Ω₁ + ½ Ω₂ ≥ ½ Ω₁
  for (const [k, v] of first) {
    const now = s.importances.get(k)!.dataSync();
    v.forEach((x, i) => assert.ok((now[i] as number) >= x / 2 - 1e-7));
  }
  const p = tf.tidy(
    () => (s.penalty({ model } as unknown as LossContext) as QuadraticPenalty).toScalar().dataSync()[0],
  );
  assert.ok(Math.abs(p as number) < 1e-9, 'zero right after consolidation');
  s.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
