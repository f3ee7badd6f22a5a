import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@engram/core';
import { MultiHeadAdjustment } from './multi-head.adjustment.js';
import { MASKED_LOGIT, MultiHeadModel } from './multi-head.model.js';
import { experienceOf, infoOf, randomBatch, tinyMlp } from '../testing/fixtures.js';

await tf.setBackend('cpu');

test('multi-head scores each sample only over the classes of its task', () => {
  const base = tinyMlp(4, [5], 6);
  const adjust = new MultiHeadAdjustment({});
  const info = infoOf(4, 6, 3);
  const e = experienceOf(0, randomBatch(8, 4, [0, 1], 1, 0), 0);
  const model = adjust.apply(base, { experience: e, info, seenClasses: [0, 1], rng: new Rng(1) });
  assert.ok(model instanceof MultiHeadModel);
  assert.equal(model.network, base.network, 'shares the network');
  assert.deepEqual(model.mapping(), [
    [0, [0, 1]],
    [1, [2, 3]],
    [2, [4, 5]],
  ]);
  // a later experience of task 1 that has classes {2, 3} keeps the mapping and returns nothing
  assert.equal(
    adjust.apply(model, {
      experience: experienceOf(1, randomBatch(8, 4, [2, 3], 2, 1), 1),
      info,
      seenClasses: [0, 1, 2, 3],
      rng: new Rng(1),
    }),
    undefined,
  );
  tf.tidy(() => {
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const out = model.forward(x, { training: false, task: Int32Array.from([0, 1, 2]) }).arraySync() as number[][];
    const raw = base.network.predict(x) as tf.Tensor;
    const r = raw.arraySync() as number[][];
    out.forEach((row, i) =>
      row.forEach((v, c) => {
        const allowed = Math.floor(c / 2) === i;
        assert.equal(v, allowed ? Math.fround(r[i]![c]!) : MASKED_LOGIT);
      }),
    );
    const unmasked = model.forward(x, { training: false });
    assert.ok(tf.max(tf.abs(tf.sub(unmasked, raw))).dataSync()[0] === 0, 'no task labels: all classes');
  });
  base.dispose();
});

test('multi-head state round-trips the task classes, so a resumed wrapper scores irregular tasks as before', () => {
  const info = infoOf(4, 6, 2);
  const adjust = new MultiHeadAdjustment({});
  // Irregular tasks (not the contiguous 3+3 split the fallback would assume): task 0 = {0, 5}, task 1 = {1, 2, 3, 4}.
  const base = tinyMlp(4, [5], 6);
  adjust.apply(base, {
    experience: experienceOf(0, randomBatch(8, 4, [0, 5], 1, 0), 0),
    info,
    seenClasses: [0, 5],
    rng: new Rng(1),
  });
  const restored = new MultiHeadAdjustment({});
  restored.restore(JSON.parse(JSON.stringify(adjust.state())) as ReturnType<typeof adjust.state>);
  assert.deepEqual(restored.state(), adjust.state());
  const resumed = restored.apply(tinyMlp(4, [5], 6), {
    experience: experienceOf(1, randomBatch(8, 4, [1, 2, 3, 4], 2, 1), 1),
    info,
    seenClasses: [0, 1, 2, 3, 4, 5],
    rng: new Rng(1),
  });
  assert.ok(resumed instanceof MultiHeadModel);
  assert.deepEqual(resumed.taskClasses(0), [0, 5]);
  assert.deepEqual(resumed.taskClasses(1), [1, 2, 3, 4]);
  resumed.dispose();
  base.dispose();
});
