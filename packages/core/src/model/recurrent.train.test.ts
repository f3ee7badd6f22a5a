import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.js';
import { buildModel } from './model.builder.js';

const STEPS = 10;
const VOCAB = 16;
const CLASSES = 4;

/** Sequences of filler ids (5..15) with the class's keyword id (1..4) at a random position. */
function tokenTask(n: number, rng: Rng): { x: tf.Tensor2D; y: tf.Tensor1D; labels: number[] } {
  const ids: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % CLASSES;
    const seq = Array.from({ length: STEPS }, () => 5 + Math.floor(rng.next() * (VOCAB - 5)));
    seq[Math.floor(rng.next() * STEPS)] = label + 1;
    ids.push(...seq);
    labels.push(label);
  }
  return { x: tf.tensor2d(ids, [n, STEPS]), y: tf.tensor1d(labels, 'int32'), labels };
}

for (const resetAfter of [false, true]) {
  test(`an embedding → gru${resetAfter ? ' (resetAfter, PyTorch’s form)' : ''} graph learns a keyword-spotting token task far above chance (25%)`, async (t) => {
    const rng = new Rng(4);
    const before = tf.memory().numTensors;
    const model = await buildModel(
      {
        graph: {
          nodes: [
            { name: 'emb', type: 'embedding', inputDim: VOCAB, outputDim: 8, inputs: ['input'] },
            { name: 'gru', type: 'gru', units: 16, recurrentActivation: 'sigmoid', resetAfter, inputs: ['emb'] },
          ],
        },
      },
      { inputShape: [STEPS], outputs: CLASSES, rng, baseDir: '.' },
    );
    const train = tokenTask(256, rng);
    const held = tokenTask(200, rng);
    const optimizer = tf.train.adam(0.03);
    const accuracy = (): number =>
      tf.tidy(() => {
        const predicted = tf.argMax(model.forward(held.x, { training: false }), 1).dataSync();
        return held.labels.filter((l, i) => predicted[i] === l).length / held.labels.length;
      });
    const start = accuracy();
    for (let step = 0; step < 120; step++) {
      const from = (step * 32) % 256;
      tf.tidy(() => {
        const xb = tf.slice(train.x, [from, 0], [32, STEPS]);
        const yb = tf.oneHot(tf.slice(train.y, [from], [32]), CLASSES);
        optimizer.minimize(
          () => tf.mean(tf.losses.softmaxCrossEntropy(yb, model.forward(xb, { training: true }))),
          false,
          model.trainableVariables(),
        );
      });
    }
    const end = accuracy();
    assert.ok(end >= 0.8, `held-out accuracy ${(100 * end).toFixed(1)}% (from ${(100 * start).toFixed(1)}%)`);
    t.diagnostic(`held-out accuracy ${(100 * start).toFixed(1)}% → ${(100 * end).toFixed(1)}%`);
    optimizer.dispose();
    tf.dispose([train.x, train.y, held.x, held.y]);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor outlives the run');
  });
}
