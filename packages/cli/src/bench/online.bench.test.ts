import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@engram/core';
import { bareOnlineSteps, engineOnlineSteps } from './online.bench.js';
import { PullClock } from './online-source.js';

test('PullClock turns pull times into step durations after the skipped warm-up steps', () => {
  const clock = new PullClock();
  clock.times.push(0, 10, 12, 15, 25);
  assert.deepEqual(clock.steps(0), [10, 2, 3, 10]);
  assert.deepEqual(clock.steps(2), [3, 10]);
  assert.deepEqual(clock.steps(4), []);
});

test('the engine online benchmark runs in stream mode and times every measured step', async () => {
  await selectBackend('cpu');
  const r = await engineOnlineSteps(2, 12, 3);
  assert.equal(r.mode, 'stream');
  assert.equal(r.trainedSteps, 15);
  assert.equal(r.prequentialEvents, 3); // test-then-train ran: events at steps 0 and 10 (logEvery 10), and the final one over every sample
  assert.equal(r.stepMs.length, 12);
  assert.ok(r.stepMs.every((ms) => ms > 0 && Number.isFinite(ms)));
});

test('the bare online step times each step and releases every tensor it makes', async () => {
  await selectBackend('cpu');
  const before = tf.memory().numTensors;
  const r = await bareOnlineSteps(2, 5, 2);
  assert.equal(r.stepMs.length, 5);
  assert.ok(r.stepMs.every((ms) => ms > 0 && Number.isFinite(ms)));
  assert.equal(tf.memory().numTensors, before);
});
