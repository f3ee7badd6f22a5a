import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { HedgeStrategy } from './hedge.strategy.js';
import { HedgeModel } from './hedge.model.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { accuracy, trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

test('hedge weights sum to 1, move toward the head with lower loss, and respect the s/L floor', () => {
  const s = new HedgeStrategy({ beta: 0.5, s: 0.2 }, services());
  const model = tinyMlp(4, [5, 5], 3);
  s.adaptModel(experienceContext(model, experienceOf(0, randomBatch(4, 4, [0, 1, 2], 1)), infoOf(4, 3)));
  assert.deepEqual(Array.from(s.weights), [1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  s.update([0, 1, 2]);
  // α ∝ [1, 0.5, 0.25] → [4/7, 2/7, 1/7]
  const w = s.weights;
  [4 / 7, 2 / 7, 1 / 7].forEach((v, i) => assert.ok(Math.abs((w[i] as number) - v) < 1e-6));
  for (let k = 0; k < 50; k++) s.update([0, 1, 5]);
  const end = s.weights;
  assert.ok(Math.abs(end.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok((end[0] as number) > (end[1] as number) && (end[1] as number) >= (end[2] as number));
  assert.ok((end[2] as number) >= 0.2 / 3 / (1 + (2 * 0.2) / 3) - 1e-6, 'floor s/L before normalisation');
  s.dispose();
  model.dispose();
});

test('the hedge model predicts the alpha-weighted mixture of its heads as log-probabilities', () => {
  const base = tinyMlp(4, [5, 5], 3, 2);
  const alpha = Float32Array.from([0.2, 0.3, 0.5]);
  const model = new HedgeModel(base.network, () => alpha, services().rng);
  assert.equal(model.heads, 3);
  tf.tidy(() => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
    const heads = model.headLogits(x, { training: false });
    const mix = heads.map((z, l) => tf.mul(tf.softmax(z), alpha[l] as number)).reduce((a, b) => tf.add(a, b));
    const out = tf.exp(model.forward(x, { training: false }));
    assert.ok(tf.max(tf.abs(tf.sub(out, mix))).dataSync()[0]! < 1e-6);
    assert.ok(tf.max(tf.abs(tf.sub(tf.sum(out, 1), 1))).dataSync()[0]! < 1e-5);
  });
  model.dispose();
});

test('hedge learns online one sample at a time (stream mode, batch size 1) without leaking tensors', async () => {
  const before = tf.memory().numTensors;
  const base = tinyMlp(4, [8, 8], 3, 4, 'relu');
  const s = new HedgeStrategy({ beta: 0.99, s: 0.2 }, services());
  const train = randomBatch(300, 4, [0, 1, 2], 5);
  const model = await trainWithHooks([s], base, [experienceOf(0, train)], infoOf(4, 3), {
    batchSize: 1,
    learningRate: 0.05,
  });
  assert.ok(model instanceof HedgeModel);
  const w = s.weights;
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(
    w.some((v) => Math.abs(v - 1 / 3) > 1e-3),
    'weights moved',
  );
  assert.ok(accuracy(model, randomBatch(200, 4, [0, 1, 2], 6)) > 0.8);
  s.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a hedge network rebuilt from a checkpoint topology is adopted as is, with the same predictions', async () => {
  const base = tinyMlp(4, [5, 5], 3, 6);
  const alpha = Float32Array.from([0.5, 0.25, 0.25]);
  const model = new HedgeModel(base.network, () => alpha, services().rng);
  const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
    void model.network.save(
      tf.io.withSaveHandler(async (a) => {
        resolve(a);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  });
  const rebuilt = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  assert.ok(HedgeModel.isHedgeNetwork(rebuilt));
  const adopted = new HedgeModel(rebuilt, () => alpha, services().rng);
  assert.equal(adopted.network, rebuilt);
  tf.tidy(() => {
    const x = tf.randomNormal([4, 4], 0, 1, 'float32', 9);
    const d = tf
      .max(tf.abs(tf.sub(model.forward(x, { training: false }), adopted.forward(x, { training: false }))))
      .dataSync()[0]!;
    assert.ok(d < 1e-6);
  });
  model.dispose();
  adopted.dispose();
});
