import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { quadraticPenalty } from './quadratic-penalty.js';

await tf.setBackend('cpu');

test('the quadratic penalty is scale times the importance-weighted squared distance, with gradient 2 scale F (theta - anchor)', () => {
  const theta = tf.variable(tf.tensor1d([1, 2, 3]));
  const anchor = tf.tensor1d([1, 1, 1]);
  const importance = tf.tensor1d([5, 2, 0.5]);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => quadraticPenalty([{ param: theta, anchor, importance }], 0.5),
    [theta],
  );
  // 0.5 * (5*0 + 2*1 + 0.5*4) = 2
  assert.equal(value.dataSync()[0], 2);
  // 2 * 0.5 * [5*0, 2*1, 0.5*2]
  assert.deepEqual(Array.from(grads[theta.name]?.dataSync() ?? []), [0, 2, 1]);
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([theta, anchor, importance]);
});

test('a given accelerated implementation is used instead of the tfjs ops, and only where given', () => {
  let calls = 0;
  const accelerated = (terms: readonly unknown[], scale: number) => {
    calls++;
    return tf.scalar(terms.length * scale);
  };
  const t = tf.tensor1d([1]);
  const p = quadraticPenalty([{ param: t, anchor: t, importance: t }], 3, accelerated);
  assert.equal(p.dataSync()[0], 3);
  assert.equal(calls, 1);
  const stock = quadraticPenalty([{ param: t, anchor: t, importance: t }], 3);
  assert.equal(stock.dataSync()[0], 0, 'F·(θ−θ*)² with θ = θ*');
  assert.equal(calls, 1);
  tf.dispose([p, stock, t]);
});
