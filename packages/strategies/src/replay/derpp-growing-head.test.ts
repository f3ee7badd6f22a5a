import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Batch, EngramModel, LossContext } from '@engram/core';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { DerppStrategy } from './derpp.strategy.js';

await tf.setBackend('cpu');

/** One training step's hooks of `s` on `batch` with `model` (no optimizer: the weights stay as they are). */
function step(s: DerppStrategy, model: EngramModel, batch: Batch, experience: number): number {
  const drawn = s.transformBatch(batch);
  const ctx = { ...experienceContext(model, experienceOf(experience, batch), infoOf(4, 3)), batch: drawn, epoch: 0 };
  const value = tf.tidy(() => {
    const x = tf.tensor(drawn.x, [drawn.y.length, 4]);
    const logits = model.forward(x, { training: true }) as tf.Tensor2D;
    const lossCtx = { ...ctx, x, y: tf.tensor1d(drawn.y, 'int32'), logits, crossEntropy: tf.scalar(0) } as LossContext;
    const p = s.penalty(lossCtx);
    return p ? p.dataSync()[0] : undefined;
  });
  s.afterBatch({ ...ctx, loss: 0, penalty: value ?? 0 });
  return value ?? NaN;
}

/** Logits of `model` on `batch`, row-major. */
const logitsOf = (model: EngramModel, batch: Batch): Float32Array =>
  tf.tidy(() => model.forward(tf.tensor(batch.x, [batch.y.length, 4]), { training: false }).dataSync() as Float32Array);

test('DER++ across a grown head: memory rows with 2 and 3 logits replay together, each matched on its own classes only', () => {
  const before = tf.memory().numTensors;
  const s = new DerppStrategy({ bufferSize: 64, alpha: 1, beta: 0, replayBatchSize: 64 }, services());
  const small = tinyMlp(4, [], 2, 3); // the head before grow-head: classes 0, 1
  const grown = tinyMlp(4, [], 3, 4); // after: classes 0, 1, 2
  const first = randomBatch(8, 4, [0, 1], 1);
  const second = randomBatch(8, 4, [2], 2);
  step(s, small, first, 0); // stores 8 rows with 2 logits
  step(s, grown, second, 1); // replays them against 3 outputs, stores 8 rows with 3 logits
  // Now the memory mixes widths; before the fix joining them threw "offset is out of bounds".
  const value = step(s, grown, randomBatch(8, 4, [2], 3), 1);
  // Expected: rows of `first` compare the grown head's 2 old columns with the small head's logits; rows
  // of `second` were stored by the same grown head (distance 0) over 3 columns. Order-independent mean.
  const now = logitsOf(grown, first);
  const then = logitsOf(small, first);
  let sum = 0;
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 2; j++) sum += ((now[i * 3 + j] as number) - (then[i * 2 + j] as number)) ** 2;
  const expected = sum / (8 * 2 + 8 * 3);
  assert.ok(expected > 1e-3, `the heads differ (${expected})`);
  assert.ok(Math.abs(value - expected) < 1e-5 * Math.max(1, expected), `penalty ${value}, expected ${expected}`);
  s.dispose();
  small.dispose();
  grown.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('DER++ with one head width keeps the plain mean squared error over all logits', () => {
  const model = tinyMlp(4, [], 3, 5);
  const s = new DerppStrategy({ bufferSize: 64, alpha: 0.5, beta: 0, replayBatchSize: 64 }, services());
  const batch = randomBatch(8, 4, [0, 1, 2], 1);
  step(s, model, batch, 0);
  const other = tinyMlp(4, [], 3, 6);
  const value = step(s, other, randomBatch(8, 4, [0, 1, 2], 2), 0);
  const a = logitsOf(other, batch);
  const b = logitsOf(model, batch);
  const mse = a.reduce((acc, v, i) => acc + (v - (b[i] as number)) ** 2, 0) / a.length;
  assert.ok(Math.abs(value - 0.5 * mse) < 1e-5, `penalty ${value}, expected ${0.5 * mse}`);
  s.dispose();
  model.dispose();
  other.dispose();
});
