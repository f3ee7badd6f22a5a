import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ArrayBatchSource } from '../data/batch-source.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { evaluate } from './evaluator.js';

await tf.setBackend('cpu');

test("a strategy predictor replaces the arg-max of the logits in evaluation; the loss stays the model's", async () => {
  // A 2-feature, 3-class linear model that always prefers class 0 (bias), whatever the input.
  const network = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 3,
        inputShape: [2],
        kernelInitializer: 'zeros',
        biasInitializer: tf.initializers.constant({ value: 0 }),
      }),
    ],
  });
  tf.tidy(() => network.layers[0]?.setWeights([tf.zeros([2, 3]), tf.tensor1d([2, 0, 0])]));
  const model = new LayersEngramModel(network);
  const x = Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1]);
  const y = Int32Array.from([1, 2, 1, 2]);
  const exp = {
    index: 0,
    classes: [1, 2],
    train: new ArrayBatchSource({ x, y, sampleShape: [2] }),
    test: new ArrayBatchSource({ x, y, sampleShape: [2] }),
  };
  const before = tf.memory().numTensors;
  const [plain] = await evaluate(model, [exp], 3, 10, (b) => b);
  // Scores: feature 0 → class 1, feature 1 → class 2.
  const predictor = (input: tf.Tensor): tf.Tensor =>
    tf.matMul(
      input,
      tf.tensor2d([
        [0, 1, 0],
        [0, 0, 1],
      ]),
    );
  const [nme] = await evaluate(model, [exp], 3, 10, (b) => b, predictor);
  assert.equal(plain?.accuracy, 0);
  assert.equal(nme?.accuracy, 1);
  assert.equal(nme?.loss, plain?.loss);
  assert.deepEqual(nme?.confusion, [
    [0, 0, 0],
    [0, 2, 0],
    [0, 0, 2],
  ]);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
