import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ArrayBatchSource } from '../data/batch-source.js';
import { concatBatches, selectRows, type Batch } from '../data/batch.js';
import { evaluate } from '../evaluation/evaluator.js';
import { regressionErrors } from '../metrics/error-matrix.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { Rng } from '../random/rng.js';
import type { ExperienceContext } from '../plugin-api/contexts.js';
import { OptimizerHandle } from './optimizer-handle.js';
import { StrategyChain } from './strategy-chain.js';
import { lossSpecOf } from './task-loss.js';
import { Trainer } from './trainer.js';

await tf.setBackend('cpu');

let id = 0;

/** y = x·[1, 2] + 0.5: a fixed linear model with one output. */
function linearModel(): { model: LayersEngramModel; dispose: () => void } {
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], name: `regression${id++}` })] });
  tf.tidy(() => net.setWeights([tf.tensor2d([[1], [2]]), tf.tensor1d([0.5])]));
  return { model: new LayersEngramModel(net), dispose: () => net.dispose() };
}

// Outputs 1.5, 2.5, 3.5 against targets 1, 2, 3.5: errors 0.5, 0.5, 0.
const batch: Batch = {
  x: Float32Array.from([1, 0, 0, 1, 1, 1]),
  y: new Int32Array(3),
  targetValues: Float32Array.from([1, 2, 3.5]),
  sampleShape: [2],
};

test('a regression evaluation reports MAE, RMSE and the mean loss of training.loss in target units', async () => {
  const { model, dispose } = linearModel();
  const exp = { index: 0, classes: [], train: new ArrayBatchSource(batch), test: new ArrayBatchSource(batch) };
  const before = tf.memory().numTensors;
  const run = (loss: 'mse' | 'mae' | 'huber') =>
    evaluate(
      model,
      [exp],
      1,
      2,
      (b) => b,
      undefined,
      undefined,
      lossSpecOf({ task: 'regression', training: { loss } }),
    );
  const [mse] = await run('mse');
  assert.ok(Math.abs((mse?.mae ?? NaN) - 1 / 3) < 1e-6, String(mse?.mae));
  assert.ok(Math.abs((mse?.rmse ?? NaN) - Math.sqrt(0.5 / 3)) < 1e-6, String(mse?.rmse));
  assert.ok(Math.abs((mse?.loss ?? NaN) - 0.5 / 3) < 1e-6, String(mse?.loss));
  assert.equal(mse?.count, 3);
  const [mae] = await run('mae');
  assert.ok(Math.abs((mae?.loss ?? NaN) - 1 / 3) < 1e-6);
  // huber (δ = 1): ½e² = 0.125 for both errors of 0.5
  const [huber] = await run('huber');
  assert.ok(Math.abs((huber?.loss ?? NaN) - 0.25 / 3) < 1e-6);
  assert.equal(tf.memory().numTensors, before);
  dispose();
});

test('a regression training step minimises the squared error of the outputs and releases every tensor', async () => {
  const { model, dispose } = linearModel();
  const optimizer = new OptimizerHandle({ type: 'sgd', learningRate: 0.1 } as never, {});
  await optimizer.track(model.trainableVariables());
  const trainer = new Trainer(new StrategyChain([]), optimizer, {
    loss: lossSpecOf({ task: 'regression', training: {} }),
  });
  const context = {
    model,
    experience: { index: 0, classes: [], train: new ArrayBatchSource(batch) },
    info: { inputShape: [2], numClasses: 1, experiences: 1, scenario: 'test', regression: true },
    mode: 'experiences',
    batchSize: 3,
    rng: new Rng(1),
    events: { emit: () => undefined },
    step: 0,
    gradientsOf: () => ({}),
    resetOptimizer: () => undefined,
  } as unknown as ExperienceContext;
  const before = tf.memory().numTensors;
  const first = await trainer.step(batch, context, 0);
  // the first step's loss is the mean squared error before the update: (0.25 + 0.25 + 0) / 3
  assert.ok(Math.abs(first.loss - 0.5 / 3) < 1e-6, String(first.loss));
  assert.equal(first.correct, 0);
  // d/db of mean (o − t)² = 2·mean(e) = 2/3: one SGD step moves the bias by −0.1·2/3
  const bias = model.trainableVariables()[1]?.dataSync()[0] ?? NaN;
  assert.ok(Math.abs(bias - (0.5 - 0.2 / 3)) < 1e-6, String(bias));
  let last = first.loss;
  for (let i = 0; i < 20; i++) last = (await trainer.step(batch, context, 0)).loss;
  assert.ok(last < first.loss / 2, `${last} vs ${first.loss}`);
  assert.equal(tf.memory().numTensors, before);
  optimizer.dispose();
  dispose();
});

test('selecting and concatenating rows carries the regression targets with their rows', () => {
  const two: Batch = { ...batch, targetValues: Float32Array.from([1, 10, 2, 20, 3, 30]) };
  const picked = selectRows(two, [2, 0]);
  assert.deepEqual(Array.from(picked.targetValues ?? []), [3, 30, 1, 10]);
  const joined = concatBatches([picked, selectRows(two, [1])]);
  assert.deepEqual(Array.from(joined.targetValues ?? []), [3, 30, 1, 10, 2, 20]);
  // a batch without targets among them drops them (as task labels)
  const { targetValues: _dropped, ...plain } = picked;
  assert.equal(concatBatches([picked, plain]).targetValues, undefined);
});

test('error forgetting is the increase of an experience error over its best before the last experience', () => {
  const e = regressionErrors(
    [
      [0.2, 3],
      [0.5, 0.1],
      [0.9, 0.4],
    ],
    [
      [0.3, 3.5],
      [0.6, 0.2],
      [1.1, 0.5],
    ],
    [2, 2.5],
  );
  assert.deepEqual(
    e.forgettingPerExperience.map((v) => (v === null ? null : Math.round(v * 1e9) / 1e9)),
    [0.7, 0.3],
  );
  assert.ok(Math.abs((e.forgetting ?? NaN) - 0.5) < 1e-12);
  assert.ok(Math.abs((e.averageMae ?? NaN) - 0.65) < 1e-12);
  assert.ok(Math.abs((e.averageRmse ?? NaN) - 0.8) < 1e-12);
  // learning MAE: the diagonal 0.2, 0.1 (no column for the third row)
  assert.ok(Math.abs((e.learningMae ?? NaN) - 0.15) < 1e-12);
});
