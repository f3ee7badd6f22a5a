import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { checkLoss, guardStep, LOSS_LIMIT } from './numeric-guard.js';
import { NumericalError } from './trainer.js';

const where = { experience: 1, epoch: 0, step: 50 };

test('a loss that is NaN, infinite or beyond the divergence limit stops training with one line', () => {
  checkLoss(2.3, where);
  checkLoss(-LOSS_LIMIT, where);
  assert.throws(() => checkLoss(Number.NaN, where), (e: unknown) => e instanceof NumericalError && /^loss is NaN at experience 1, epoch 0, step 50$/.test(e.message));
  assert.throws(() => checkLoss(Infinity, where), /loss is Infinity/);
  assert.throws(() => checkLoss(1.5e28, where), (e: unknown) => e instanceof NumericalError && /loss is 1\.50e\+28 at experience 1, epoch 0, step 50: training diverged/.test(e.message));
});

test("Adam's second moment filled with Infinity is caught even when the loss still looks sane", async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 2, 3]), true, 'w');
  const adam = tf.train.adam(0.001);
  const g = tf.tensor1d([1e20, 0, 1]);
  adam.applyGradients([{ name: 'w', tensor: g }]);
  g.dispose();
  assert.ok(w.dataSync().every((v) => Number.isFinite(v)), 'the weights still look finite');
  const before = tf.memory().numTensors;
  await assert.rejects(guardStep(0.5, adam, where), (e: unknown) => e instanceof NumericalError && /optimizer state w\/.* holds Infinity at experience 1, epoch 0, step 50: training diverged/.test(e.message));
  // between scans only the loss is checked
  await guardStep(0.5, adam, { ...where, step: 51 });
  assert.equal(tf.memory().numTensors, before, 'the guard releases what it reads');
  adam.dispose();
  w.dispose();
});
