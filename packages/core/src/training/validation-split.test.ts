import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ArrayBatchSource } from '../data/batch-source.js';
import type { Batch } from '../data/batch.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { measureClassification, splitForValidation } from './validation-split.js';

/** 20 one-feature samples whose feature is their index. */
function rows(): Batch {
  const n = 20;
  return {
    x: Float32Array.from({ length: n }, (_, i) => i),
    y: Int32Array.from({ length: n }, (_, i) => i % 2),
    sampleShape: [1],
  };
}

async function all(source: ArrayBatchSource | { batches: ArrayBatchSource['batches'] }): Promise<number[]> {
  const out: number[] = [];
  for await (const b of source.batches({ batchSize: 7, shuffle: false, epoch: 0, seed: 0 })) out.push(...b.x);
  return out;
}

describe('validation split', () => {
  it('holds out round(fraction·n) rows chosen by the seed, disjoint from the training part, the same on every call', async () => {
    const a = await splitForValidation(new ArrayBatchSource(rows()), 0.25, 1234);
    const b = await splitForValidation(new ArrayBatchSource(rows()), 0.25, 1234);
    const c = await splitForValidation(new ArrayBatchSource(rows()), 0.25, 99);
    const held = Array.from(a.validation.x);
    assert.equal(held.length, 5);
    const train = await all(a.train);
    assert.equal(train.length, 15);
    assert.deepEqual(
      [...held, ...train].sort((p, q) => p - q),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(Array.from(b.validation.x), held);
    assert.notDeepEqual(Array.from(c.validation.x), held);
    // labels travel with their rows
    assert.deepEqual(
      Array.from(a.validation.y),
      held.map((v) => v % 2),
    );
  });

  it('measures mean cross-entropy and accuracy of a model on the held-out rows, in chunks of any size', () => {
    const input = tf.input({ shape: [1] });
    const out = tf.layers
      .dense({ units: 2, useBias: true, kernelInitializer: 'zeros' })
      .apply(input) as tf.SymbolicTensor;
    const net = tf.model({ inputs: input, outputs: out });
    // logits [0, 1] for every row: class 1 predicted, CE = log(1 + e) for label 0 and log(1 + e^-1) for label 1
    net.layers[1]?.setWeights([tf.zeros([1, 2]), tf.tensor1d([0, 1])]);
    const model = new LayersEngramModel(net);
    const batch = rows();
    const before = tf.memory().numTensors;
    const whole = measureClassification(model, batch, 100);
    const chunked = measureClassification(model, batch, 3);
    assert.equal(tf.memory().numTensors, before);
    const expected = (Math.log(1 + Math.E) + Math.log(1 + Math.exp(-1))) / 2;
    assert.ok(Math.abs(whole.loss - expected) < 1e-5, `${whole.loss} vs ${expected}`);
    assert.equal(whole.accuracy, 0.5);
    assert.ok(Math.abs(chunked.loss - whole.loss) < 1e-6);
    assert.equal(chunked.accuracy, 0.5);
    model.dispose();
  });
});
