import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildModel, crossEntropy, Rng, type EngramModel, type GraphNodeSpec } from '@engram/core';
import { accelerateOptimizer } from './index.js';
import { BATCH_NORM_GRAD_KERNEL } from './kernels/batch-norm-gradient.js';
import { withStockKernels } from './kernels/kernel-registry.js';
import { BROADCAST_GRAD_KERNEL } from './kernels/reduce-gradient.js';
import { maxAbsDiff, seededTensor, skipNative, useWasmNative } from './testing/backend-harness.js';

/** The kernels added for batch norm (issue #32); the others stay native on both sides. */
const BATCH_NORM_KERNELS = [
  'FusedBatchNorm',
  BATCH_NORM_GRAD_KERNEL,
  'Mean',
  'Sum',
  'Sub',
  'Multiply',
  'RealDiv',
  'SquaredDifference',
  'Square',
  'Cast',
  BROADCAST_GRAD_KERNEL,
];

/**
 * One residual stage of the reduced ResNet-18 at small size: 3×3 conv + batch norm + relu, then a
 * stride-2 block (explicit zero padding, valid conv) with a 1×1 stride-2 conv + batch norm shortcut,
 * the residual add, relu and global average pooling (the head is appended by core).
 */
function residualGraph(): { input: string; output: string; nodes: GraphNodeSpec[] } {
  const conv = (name: string, input: string, filters: number, kernelSize: number, strides: number): GraphNodeSpec => ({
    name,
    type: 'conv2d',
    filters,
    kernelSize,
    strides,
    padding: kernelSize === 3 && strides === 1 ? 'same' : 'valid',
    useBias: false,
    inputs: [input],
  });
  const bn = (name: string, input: string): GraphNodeSpec => ({
    name,
    type: 'batchNormalization',
    momentum: 0.9,
    epsilon: 1e-5,
    inputs: [input],
  });
  const relu = (name: string, input: string): GraphNodeSpec => ({
    name,
    type: 'activation',
    activation: 'relu',
    inputs: [input],
  });
  return {
    input: 'input',
    output: 'pool',
    nodes: [
      conv('stem', 'input', 8, 3, 1),
      bn('stem_bn', 'stem'),
      relu('stem_relu', 'stem_bn'),
      { name: 'pad', type: 'zeroPadding2d', padding: 1, inputs: ['stem_relu'] },
      conv('c1', 'pad', 16, 3, 2),
      bn('bn1', 'c1'),
      relu('r1', 'bn1'),
      conv('c2', 'r1', 16, 3, 1),
      bn('bn2', 'c2'),
      conv('short', 'stem_relu', 16, 1, 2),
      bn('short_bn', 'short'),
      { name: 'add', type: 'add', inputs: ['bn2', 'short_bn'] },
      relu('out', 'add'),
      { name: 'pool', type: 'globalAveragePooling2d', inputs: ['out'] },
    ],
  };
}

function build(): Promise<EngramModel> {
  return buildModel({ graph: residualGraph() }, { inputShape: [16, 16, 3], outputs: 5, rng: new Rng(3), baseDir: '.' });
}

/** Three Adam steps on a fixed batch of 16; the losses and every weight (moving statistics included). */
function train(model: EngramModel): { losses: number[]; weights: Float32Array[] } {
  const optimizer = accelerateOptimizer(tf.train.adam(1e-2));
  const x = seededTensor([16, 16, 16, 3], 21);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0], 'int32');
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(model.forward(x, { training: true }) as tf.Tensor2D, labels),
      model.trainableVariables(),
    );
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    losses.push(value.dataSync()[0] ?? Number.NaN);
    tf.dispose([value, ...Object.values(grads)]);
  }
  const weights = model.network.getWeights().map((w) => Float32Array.from(w.dataSync()));
  optimizer.dispose();
  tf.dispose([x, labels]);
  return { losses, weights };
}

describe('training a residual graph with batch norm on the native kernels', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  it('gives the same losses and weights as the stock wasm batch-norm kernels, to the bit', async () => {
    const nativeModel = await build();
    const stockModel = await build();
    const native = train(nativeModel);
    const stock = withStockKernels(BATCH_NORM_KERNELS, () => train(stockModel));
    assert.deepEqual(native.losses, stock.losses);
    assert.equal(native.weights.length, stock.weights.length);
    native.weights.forEach((w, i) =>
      assert.equal(maxAbsDiff(w, stock.weights[i] ?? new Float32Array()), 0, `weight ${i}`),
    );
    assert.ok((native.losses[2] ?? Number.NaN) < (native.losses[0] ?? Number.NaN), `${native.losses.join(', ')}`);
    nativeModel.dispose();
    stockModel.dispose();
  });

  it('keeps the number of tensors flat over training steps', async () => {
    const model = await build();
    train(model);
    const before = tf.memory().numTensors;
    train(model);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
