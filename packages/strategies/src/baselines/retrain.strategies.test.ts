import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UnionStrategy } from './union.strategy.js';
import { GdumbStrategy } from '../replay/gdumb.strategy.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';

await tf.setBackend('cpu');

const weightsOf = (model: ReturnType<typeof tinyMlp>): number[] =>
  model.trainableVariables().flatMap((v) => Array.from(v.dataSync()));

for (const [label, make, retrains] of [
  ['joint', () => new UnionStrategy('joint', services()), true],
  ['gdumb', () => new GdumbStrategy({ bufferSize: 50 }, services()), true],
  ['cumulative', () => new UnionStrategy('cumulative', services()), false],
] as const) {
  test(
    `${label} ${retrains ? 'resets the weights and the optimizer' : 'keeps the weights and the optimizer'} at an ` +
      `experience start`,
    async () => {
      const model = tinyMlp(4, [8], 4, 3);
      const before = weightsOf(model);
      let resets = 0;
      const strategy = make();
      const ctx = experienceContext(
        model,
        experienceOf(1, randomBatch(20, 4, [2, 3], 9)),
        infoOf(4, 4),
        0,
        () => resets++,
      );
      await strategy.beforeExperience(ctx);
      strategy.adaptModel(ctx);
      assert.equal(resets, retrains ? 1 : 0);
      const changed = weightsOf(model).some((w, i) => w !== before[i]);
      assert.equal(changed, retrains);
      model.dispose();
    },
  );
}
