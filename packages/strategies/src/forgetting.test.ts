import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { concatBatches, type Experience, type Strategy } from '@engram/core';
import { NaiveStrategy } from './baselines/naive.strategy.js';
import { UnionStrategy } from './baselines/union.strategy.js';
import { ReplayStrategy } from './replay/replay.strategy.js';
import { DerppStrategy } from './replay/derpp.strategy.js';
import { GdumbStrategy } from './replay/gdumb.strategy.js';
import { EwcStrategy } from './regularization/ewc.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from './testing/fixtures.js';
import { accuracy, trainWithHooks } from './testing/mini-trainer.js';

await tf.setBackend('cpu');

/** Class-incremental toy: experience 0 = classes {0, 1}, experience 1 = classes {2, 3}; returns old-task accuracy. */
async function oldTaskAccuracy(strategies: Strategy[]): Promise<{ old: number; all: number }> {
  const train = [randomBatch(200, 4, [0, 1], 1), randomBatch(200, 4, [2, 3], 2)];
  const test0 = randomBatch(200, 4, [0, 1], 3);
  const test1 = randomBatch(200, 4, [2, 3], 4);
  const model = await trainWithHooks(
    strategies,
    tinyMlp(4, [16], 4, 5, 'relu'),
    train.map((b, i) => experienceOf(i, b)),
    infoOf(4, 4),
    { epochs: 5, batchSize: 10, learningRate: 0.1 },
  );
  const old = accuracy(model, test0);
  const all = accuracy(model, concatBatches([test0, test1]));
  for (const s of strategies) s.dispose?.();
  model.dispose();
  return { old, all };
}

test('on a class-incremental toy, naive forgets the first experience while replay, DER++, GDumb and joint keep it', async () => {
  const before = tf.memory().numTensors;
  const naive = await oldTaskAccuracy([new NaiveStrategy()]);
  assert.ok(naive.old < 0.3, `naive keeps ${naive.old}`);
  const results: Record<string, { old: number; all: number }> = {
    replay: await oldTaskAccuracy([new ReplayStrategy({ bufferSize: 100, policy: 'reservoir', ratio: 1 }, services())]),
    derpp: await oldTaskAccuracy([new DerppStrategy({ bufferSize: 100, alpha: 0.3, beta: 0.5 }, services())]),
    gdumb: await oldTaskAccuracy([new GdumbStrategy({ bufferSize: 100 }, services())]),
    joint: await oldTaskAccuracy([new UnionStrategy('joint', services())]),
    'replay + ewc': await oldTaskAccuracy([
      new ReplayStrategy({ bufferSize: 100, policy: 'class-balanced', ratio: 1 }, services()),
      new EwcStrategy('ewc', { lambda: 10, fisherSamples: 100, labels: 'true' }, services()),
    ]),
  };
  for (const [name, r] of Object.entries(results)) {
    assert.ok(
      r.old > naive.old + 0.35 && r.all > naive.all + 0.15,
      `${name}: old ${r.old}, all ${r.all} (naive: old ${naive.old}, all ${naive.all})`,
    );
  }
  assert.equal(tf.memory().numTensors, before);
});

test('joint re-initialises the model reproducibly and trains on the union of the experiences so far', async () => {
  const e = [0, 1].map((i) => experienceOf(i, randomBatch(30, 4, [i], 10 + i)));
  const s1 = new UnionStrategy('joint', services(3));
  const s2 = new UnionStrategy('joint', services(3));
  const m1 = tinyMlp(4, [5], 2, 1);
  const m2 = tinyMlp(4, [5], 2, 2);
  for (const [s, m] of [
    [s1, m1],
    [s2, m2],
  ] as const) {
    for (const exp of e) await s.beforeExperience(experienceContext(m, exp, infoOf(4, 2)));
    s.adaptModel(experienceContext(m, e[1] as Experience, infoOf(4, 2)));
  }
  assert.deepEqual(
    m1.trainableVariables().map((v) => Array.from(v.dataSync())),
    m2.trainableVariables().map((v) => Array.from(v.dataSync())),
  );
  assert.equal(s1.trainData()?.size, 60);
  const cumulative = new UnionStrategy('cumulative', services(3));
  const before = Array.from(m1.trainableVariables()[0]!.dataSync());
  cumulative.adaptModel(experienceContext(m1, e[1] as Experience, infoOf(4, 2)));
  assert.deepEqual(Array.from(m1.trainableVariables()[0]!.dataSync()), before, 'cumulative keeps the weights');
  m1.dispose();
  m2.dispose();
});
