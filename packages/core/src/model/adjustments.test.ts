import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from './model.builder.js';
import { GrowHeadAdjustment } from './grow-head.adjustment.js';
import { FreezeAdjustment } from './freeze.adjustment.js';
import type { AdjustContext } from '../plugin-api/adjustment.js';
import { Rng } from '../random/rng.js';
import { ArrayBatchSource } from '../data/batch-source.js';
import { OptimizerHandle } from '../training/optimizer-handle.js';

await tf.setBackend('cpu');

function ctx(index: number, seen: number[]): AdjustContext {
  const train = new ArrayBatchSource({ x: new Float32Array(4), y: new Int32Array([0]), sampleShape: [4] });
  return {
    experience: { index, classes: seen, train },
    info: { inputShape: [4], numClasses: 6, experiences: 3, scenario: 'class-incremental' },
    seenClasses: seen,
    rng: new Rng(3),
  };
}

test('grow-head widens the head to the seen classes and keeps the trained rows', async () => {
  const model = await buildModel(
    { layers: [{ type: 'dense', units: 5, activation: 'relu' }], head: { units: 2 } },
    { inputShape: [4], outputs: 6, rng: new Rng(1), baseDir: '.' },
  );
  const x = tf.randomNormal([3, 4], 0, 1, 'float32', 5);
  const before = (model.forward(x, { training: false }) as tf.Tensor2D).arraySync();
  const grown = new GrowHeadAdjustment({ to: 'seen' }).apply(model, ctx(1, [0, 1, 2, 3]));
  assert.ok(grown);
  assert.equal(grown.outputs(), 4);
  const after = (grown.forward(x, { training: false }) as tf.Tensor2D).arraySync();
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 2; c++) assert.ok(Math.abs((after[r]?.[c] ?? 0) - (before[r]?.[c] ?? 1)) < 1e-6);
  assert.equal(
    new GrowHeadAdjustment({ to: 'seen' }).apply(grown, ctx(2, [0, 1, 2, 3])),
    undefined,
    'no change when the head already fits',
  );
  const all = new GrowHeadAdjustment({ to: 'all' }).apply(grown, ctx(2, [0]));
  assert.equal(all?.outputs(), 6);
  x.dispose();
  all?.dispose();
});

test('freeze removes the named layers from the trainable variables from the given experience on', async () => {
  const model = await buildModel(
    { layers: [{ type: 'dense', units: 5, name: 'body' }] },
    { inputShape: [4], outputs: 3, rng: new Rng(1), baseDir: '.' },
  );
  const freeze = new FreezeAdjustment({ layers: ['body'], fromExperience: 1 });
  freeze.apply(model, ctx(0, [0]));
  assert.equal(model.trainableVariables().length, 4);
  freeze.apply(model, ctx(1, [0]));
  assert.equal(model.trainableVariables().length, 2);
  assert.throws(
    () => new FreezeAdjustment({ layers: ['nope'], fromExperience: 0 }).apply(model, ctx(0, [0])),
    /no layer named "nope"/,
  );
  model.dispose();
});

test('optimizer slots follow their variables when the variable set changes', async () => {
  const a = tf.variable(tf.tensor1d([1, 2]), true, 'slot_a');
  const b = tf.variable(tf.tensor1d([3]), true, 'slot_b');
  const handle = new OptimizerHandle({ type: 'adam', learningRate: 0.1 });
  await handle.track([a, b]);
  handle.apply({ slot_a: tf.tensor1d([1, 1]), slot_b: tf.tensor1d([2]) }, [a, b]);
  const firstMomentOfA = Array.from(
    (await handle.current.getWeights()).find((w) => w.name === 'slot_a/m')?.tensor.dataSync() ?? [],
  );
  await handle.track([b, a]);
  const moved = await handle.current.getWeights();
  assert.deepEqual(
    moved.map((w) => w.name),
    ['iter', 'slot_b/m', 'slot_a/m', 'slot_b/v', 'slot_a/v'],
  );
  assert.deepEqual(Array.from(moved.find((w) => w.name === 'slot_a/m')?.tensor.dataSync() ?? []), firstMomentOfA);
  assert.equal(handle.current.iterations, 1);
  moved[0]?.tensor.dispose();
  handle.dispose();
  a.dispose();
  b.dispose();
});
