import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { accelerateOptimizer, load, unload } from './index.js';
import { useWasmNative, skipNative } from './testing/backend-harness.js';
import { createMlp, syntheticBatch, trainStep, trainSteps } from './testing/bench-models.js';
import { buildLayersModel, LAYERS_CNN, layersTrainStep } from './testing/layers-models.js';

/** A few Adam steps of the engine's layers CNN on 32 random images; the last loss and the weights. */
async function trainCnn(steps: number, seed: number): Promise<{ loss: number; weights: Float32Array[] }> {
  const model = await buildLayersModel(LAYERS_CNN, seed);
  const opt = accelerateOptimizer(tf.train.adam(1e-3));
  const { x: flat, y } = syntheticBatch(32, 784, 10, seed + 100);
  const x = tf.reshape(flat, [32, 28, 28, 1]);
  const labels = tf.tidy(() => tf.cast(tf.argMax(y, 1), 'int32') as tf.Tensor1D);
  let loss = Number.NaN;
  for (let s = 0; s < steps; s++) loss = layersTrainStep(model, opt, x, labels);
  const weights = model.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
  model.dispose();
  opt.dispose();
  tf.dispose([flat, x, y, labels]);
  return { loss, weights };
}

function train(steps: number, seed: number): { loss: number; weights: Float32Array[] } {
  const model = createMlp([64, 32, 32, 10], seed);
  const opt = accelerateOptimizer(tf.train.adam(1e-3));
  const { x, y } = syntheticBatch(32, 64, 10, seed + 100);
  const loss = trainSteps(model, opt, x, y, steps);
  const weights = model.variables.map((v) => Float32Array.from(v.dataSync()));
  model.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return { loss, weights };
}

describe('training an MLP with native kernels', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
    assert.match(result.description, /^openblas\((openmp|pthreads|sequential|unknown), \d+ threads?\)$/);
  });

  it('reaches the same loss as the pure-wasm kernels within float tolerance', () => {
    const native = train(40, 3);
    unload();
    const stock = train(40, 3);
    load();
    assert.ok(Math.abs(native.loss - stock.loss) < 1e-4 * Math.max(1, stock.loss), `${native.loss} vs ${stock.loss}`);
    assert.ok(native.loss < 2.0);
  });

  it('is deterministic: the same seed gives bit-identical weights', () => {
    const first = train(25, 5);
    const second = train(25, 5);
    assert.deepEqual(first.weights, second.weights);
  });

  it('trains the CNN (parallel conv, pooling and relu kernels) bit-identically twice, and like the cpu backend', async () => {
    const first = await trainCnn(4, 11);
    const second = await trainCnn(4, 11);
    assert.deepEqual(first.weights, second.weights);
    await tf.setBackend('cpu');
    const stock = await trainCnn(4, 11);
    await tf.setBackend('wasm');
    assert.ok(Math.abs(first.loss - stock.loss) < 1e-4 * Math.max(1, stock.loss), `${first.loss} vs ${stock.loss}`);
  });

  it('keeps the number of tensors flat over many steps', () => {
    const model = createMlp([64, 32, 32, 10], 9);
    const opt = accelerateOptimizer(tf.train.adam(1e-3));
    const { x, y } = syntheticBatch(32, 64, 10, 9);
    trainSteps(model, opt, x, y, 5);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 500; s++) trainStep(model, opt, x, y);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});
