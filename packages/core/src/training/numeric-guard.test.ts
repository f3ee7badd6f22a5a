import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { checkLoss, firstNonFinite, LOSS_LIMIT, StepGuard } from './numeric-guard.js';
import { NumericalError } from './trainer.js';

const where = { experience: 1, epoch: 0, step: 50 };

test('a loss that is NaN, infinite or beyond the divergence limit stops training with one line', () => {
  checkLoss(2.3, where);
  checkLoss(-LOSS_LIMIT, where);
  assert.throws(
    () => checkLoss(Number.NaN, where),
    (e: unknown) => e instanceof NumericalError && /^loss is NaN at experience 1, epoch 0, step 50$/.test(e.message),
  );
  assert.throws(() => checkLoss(Infinity, where), /loss is Infinity/);
  assert.throws(
    () => checkLoss(1.5e28, where),
    (e: unknown) =>
      e instanceof NumericalError &&
      /loss is 1\.50e\+28 at experience 1, epoch 0, step 50: training diverged/.test(e.message),
  );
});

test("Adam's second moment filled with Infinity is caught even when the loss still looks sane", async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 2, 3]), true, 'w');
  const adam = tf.train.adam(0.001);
  const g = tf.tensor1d([1e20, 0, 1]);
  adam.applyGradients([{ name: 'w', tensor: g }]);
  g.dispose();
  assert.ok(
    w.dataSync().every((v) => Number.isFinite(v)),
    'the weights still look finite',
  );
  const before = tf.memory().numTensors;
  // an interval of 0: every due step scans
  const guard = new StepGuard(0);
  await assert.rejects(
    guard.afterStep(0.5, adam, where),
    (e: unknown) =>
      e instanceof NumericalError &&
      /optimizer state w\/.* holds Infinity at experience 1, epoch 0, step 50: training diverged/.test(e.message),
  );
  // between scans only the loss is checked
  await guard.afterStep(0.5, adam, { ...where, step: 51 });
  assert.equal(tf.memory().numTensors, before, 'the guard releases what it reads');
  adam.dispose();
  w.dispose();
});

test("the trainer's guard scans the slots on its first due step, then at most once per interval", async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 2, 3]), true, 'w');
  const adam = tf.train.adam(0.001);
  const step = (g: number[]): void => tf.tidy(() => adam.applyGradients([{ name: 'w', tensor: tf.tensor1d(g) }]));
  step([1, 0, 1]);
  const spaced = new StepGuard(1e9);
  await spaced.afterStep(0.5, adam, { ...where, step: 25 }); // first scan: finite
  step([1e20, 0, 1]); // the second moment overflows
  await spaced.afterStep(0.5, adam, { ...where, step: 50 }); // due by steps, not by time: not scanned
  await assert.rejects(
    spaced.afterStep(Number.NaN, adam, { ...where, step: 51 }),
    /loss is NaN/,
    'the loss is still checked every step',
  );
  await assert.rejects(
    new StepGuard(0).afterStep(0.5, adam, { ...where, step: 50 }),
    /optimizer state w\/.* holds Infinity/,
  );
  adam.dispose();
  w.dispose();
});

test('firstNonFinite finds the first NaN or infinity and nothing in finite data', () => {
  assert.equal(firstNonFinite(Float32Array.from([0, -3.4e38, 1e-45])), -1);
  assert.equal(firstNonFinite(Float32Array.from([1, Number.NaN, Infinity])), 1);
  assert.equal(firstNonFinite(Float32Array.from([1, 2, -Infinity])), 2);
});
