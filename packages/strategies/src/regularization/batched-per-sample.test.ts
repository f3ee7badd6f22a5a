import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type Batch } from '@engram/core';
import { MultiHeadModel } from '../adjust/multi-head.model.js';
import { batchedPlan } from './batched-plan.js';
import { convPatches } from './conv-patches.js';
import {
  batchedFisherApplies,
  diagonalFisher,
  fisherPerSample,
  perSampleDiagonal,
  perSampleLoop,
  summedCrossEntropy,
} from './fisher.js';

/** A small CNN: conv 'same' stride 1, max pool, conv 'valid' stride 2 without bias, flatten, dense head. */
function tinyCnn(seed: number): LayersEngramModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [7, 6, 2],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: tf.initializers.constant({ value: 0.1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.conv2d({
        filters: 4,
        kernelSize: [2, 3],
        strides: 2,
        padding: 'valid',
        useBias: false,
        activation: 'tanh',
        kernelInitializer: init(2),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: 3, kernelInitializer: init(4) }),
    ],
  });
  return new LayersEngramModel(net);
}

function randomImages(n: number, seed: number): Batch {
  let s = seed;
  const rand = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return {
    x: Float32Array.from({ length: n * 7 * 6 * 2 }, () => rand() * 2 - 1),
    y: Int32Array.from({ length: n }, () => Math.floor(rand() * 3)),
    sampleShape: [7, 6, 2],
  };
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs((x[i] as number) - (y[i] as number)));
  return max;
}

test('convolution patches times the kernel give the convolution, for same and valid padding and strides', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.randomNormal<tf.Rank.R4>([2, 5, 7, 3], 0, 1, 'float32', 1);
    for (const g of [
      { kernel: [3, 3], strides: [1, 1], padding: 'same' },
      { kernel: [2, 3], strides: [2, 2], padding: 'valid' },
      { kernel: [3, 2], strides: [2, 1], padding: 'same' },
    ] as const) {
      const k = tf.randomNormal<tf.Rank.R4>([g.kernel[0], g.kernel[1], 3, 4], 0, 1, 'float32', 2);
      const conv = tf.conv2d(x, k, g.strides as [number, number], g.padding);
      const patches = convPatches(x, g);
      const viaPatches = tf.reshape(
        tf.matMul(patches, tf.reshape(k, [-1, 4]).expandDims(0).tile<tf.Tensor3D>([2, 1, 1])),
        conv.shape,
      );
      assert.ok(maxDiff(conv, viaPatches) < 1e-5, `${JSON.stringify(g)}: ${maxDiff(conv, viaPatches)}`);
    }
  });
  assert.equal(tf.memory().numTensors, before);
});

test('the batched Fisher of a CNN equals the per-sample loop to 1e-6, with true and predicted labels, in chunks', async () => {
  await tf.setBackend('cpu');
  const model = tinyCnn(3);
  const data = randomImages(23, 9);
  assert.ok(batchedFisherApplies(model), 'conv, pooling, flatten and dense layers take the batched pass');
  const before = tf.memory().numTensors;
  for (const labels of ['true', 'predicted'] as const) {
    const fast = diagonalFisher(model, data, labels, 8);
    const slow = fisherPerSample(model, data, labels);
    assert.equal(fast.size, 7, 'two conv kernels, one conv bias, two dense kernels and biases');
    for (const [name, t] of slow) {
      const f = fast.get(name) as tf.Tensor;
      assert.deepEqual(f.shape, t.shape);
      assert.ok(maxDiff(f, t) < 1e-6, `${name} (${labels}) differs by ${maxDiff(f, t)}`);
      assert.ok(
        t.dataSync().some((v) => v > 0),
        `${name} is all zero`,
      );
    }
    tf.dispose([...fast.values(), ...slow.values()]);
  }
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  model.dispose();
});

test('the batched absolute per-sample gradients (MAS) of a CNN equal the per-sample loop', async () => {
  await tf.setBackend('cpu');
  const model = tinyCnn(5);
  const data = randomImages(11, 4);
  const fast = perSampleDiagonal(model, data, 'true', summedCrossEntropy, 'abs', 4);
  const slow = perSampleLoop(model, data, 'true', summedCrossEntropy, 'abs');
  for (const [name, t] of slow) assert.ok(maxDiff(fast.get(name) as tf.Tensor, t) < 1e-6, name);
  tf.dispose([...fast.values(), ...slow.values()]);
  model.dispose();
});

test('a dilated convolution or a batch normalisation leaves the batched pass: the loop takes those models', async () => {
  await tf.setBackend('cpu');
  const dilated = new LayersEngramModel(
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 2, dilationRate: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    }),
  );
  const normed = new LayersEngramModel(
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 2 }),
      ],
    }),
  );
  assert.equal(batchedPlan(dilated), undefined);
  assert.equal(batchedPlan(normed), undefined);
  dilated.dispose();
  normed.dispose();
});

/**
 * A small graph: a conv stem, a residual block (conv 'same' + the stem, `add`), a side branch pooled and
 * `concatenate`d with the block's flattened output, a dense layer and the head.
 */
function tinyGraph(seed: number): LayersEngramModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const input = tf.input({ shape: [7, 6, 2] });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor =>
    layer.apply(x) as tf.SymbolicTensor;
  const stem = apply(
    tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
    input,
  );
  const block = apply(
    tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init(2) }),
    stem,
  );
  const sum = apply(tf.layers.add({}), [block, stem]);
  const side = apply(tf.layers.globalAveragePooling2d({}), apply(tf.layers.maxPooling2d({ poolSize: 2 }), input));
  const cat = apply(tf.layers.concatenate({}), [apply(tf.layers.flatten(), sum), side]);
  const hidden = apply(tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(3) }), cat);
  const head = apply(tf.layers.dense({ units: 3, kernelInitializer: init(4) }), hidden);
  return new LayersEngramModel(tf.model({ inputs: input, outputs: head }));
}

test('the batched Fisher of a graph with a residual add and a concatenate equals the per-sample loop to 1e-5, also under multi-head masks', async () => {
  await tf.setBackend('cpu');
  const model = tinyGraph(7);
  const multi = new MultiHeadModel(model.network);
  multi.setTaskClasses(0, [0, 2]);
  multi.setTaskClasses(1, [1, 2]);
  const data = { ...randomImages(19, 5), task: Int32Array.from({ length: 19 }, (_, i) => i % 2) };
  const before = tf.memory().numTensors;
  for (const m of [model, multi]) {
    assert.ok(batchedFisherApplies(m), 'a graph of conv, dense, add, concatenate and pooling takes the batched pass');
    for (const labels of ['true', 'predicted'] as const) {
      const fast = diagonalFisher(m, data, labels, 8);
      const slow = fisherPerSample(m, data, labels);
      assert.equal(fast.size, 8, 'two conv kernels and biases, two dense kernels and biases');
      for (const [name, t] of slow) {
        const f = fast.get(name) as tf.Tensor;
        assert.deepEqual(f.shape, t.shape);
        assert.ok(maxDiff(f, t) < 1e-5, `${name} (${labels}) differs by ${maxDiff(f, t)}`);
        assert.ok(
          t.dataSync().some((v) => v > 0),
          `${name} is all zero`,
        );
      }
      tf.dispose([...fast.values(), ...slow.values()]);
    }
  }
  const fast = perSampleDiagonal(model, data, 'true', summedCrossEntropy, 'abs', 6);
  const slow = perSampleLoop(model, data, 'true', summedCrossEntropy, 'abs');
  for (const [name, t] of slow) assert.ok(maxDiff(fast.get(name) as tf.Tensor, t) < 1e-5, `MAS ${name}`);
  tf.dispose([...fast.values(), ...slow.values()]);
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  model.dispose();
});

test('a graph that reuses a weighted layer on two branches leaves the batched pass', async () => {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [4] });
  const shared = tf.layers.dense({ units: 4 });
  const a = shared.apply(input) as tf.SymbolicTensor;
  const b = shared.apply(a) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 2 }).apply(tf.layers.add({}).apply([a, b])) as tf.SymbolicTensor;
  const model = new LayersEngramModel(tf.model({ inputs: input, outputs: head }));
  assert.equal(batchedPlan(model), undefined);
  model.dispose();
});
