import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec } from '../pipeline/layer.schema.js';
import { Rng } from '../random/rng.js';
import { assertClose, compareWithCpu, project, rnd, setUpWasm } from '../testing/wasm-helpers.js';
import { buildModel } from './model.builder.js';
import type { EngramModel } from '../plugin-api/engram-model.js';

before(setUpWasm);

/** One small graph per new layer type, with the input it takes (token ids for the embedding). */
const CASES: Array<{ label: string; shape: number[]; tokens?: number; graph: GraphSpec }> = [
  {
    label: 'add + concatenate',
    shape: [6],
    graph: {
      nodes: [
        { name: 'a', type: 'dense', units: 6, activation: 'tanh', inputs: ['input'] },
        { name: 's', type: 'add', inputs: ['a', 'input'] },
        { name: 'c', type: 'concatenate', inputs: ['s', 'a'] },
      ],
    },
  },
  {
    label: 'zeroPadding2d + averagePooling2d + globalAveragePooling2d',
    shape: [6, 6, 2],
    graph: {
      nodes: [
        {
          name: 'p',
          type: 'zeroPadding2d',
          padding: [
            [1, 0],
            [0, 2],
          ],
          inputs: ['input'],
        },
        { name: 'c', type: 'conv2d', filters: 3, kernelSize: 3, inputs: ['p'] },
        { name: 'a', type: 'averagePooling2d', poolSize: 2, inputs: ['c'] },
        { name: 'g', type: 'globalAveragePooling2d', inputs: ['a'] },
      ],
    },
  },
  {
    label: 'depthwiseConv2d (stride 2, depthMultiplier 2)',
    shape: [7, 7, 3],
    graph: {
      nodes: [
        {
          name: 'd',
          type: 'depthwiseConv2d',
          kernelSize: 3,
          depthMultiplier: 2,
          strides: 2,
          padding: 'same',
          inputs: ['input'],
        },
        { name: 'f', type: 'flatten', inputs: ['d'] },
      ],
    },
  },
  {
    label: 'layerNormalization',
    shape: [5],
    graph: {
      nodes: [
        { name: 'd', type: 'dense', units: 8, inputs: ['input'] },
        { name: 'n', type: 'layerNormalization', inputs: ['d'] },
      ],
    },
  },
  {
    label: 'embedding + gru',
    shape: [6],
    tokens: 11,
    graph: {
      nodes: [
        { name: 'e', type: 'embedding', inputDim: 11, outputDim: 4, inputs: ['input'] },
        { name: 'r', type: 'gru', units: 5, inputs: ['e'] },
      ],
    },
  },
  {
    label: 'embedding + gru (resetAfter, sequences) + gru (resetAfter)',
    shape: [6],
    tokens: 11,
    graph: {
      nodes: [
        { name: 'e', type: 'embedding', inputDim: 11, outputDim: 4, inputs: ['input'] },
        { name: 'r1', type: 'gru', units: 5, resetAfter: true, returnSequences: true, inputs: ['e'] },
        { name: 'r2', type: 'gru', units: 3, resetAfter: true, recurrentActivation: 'sigmoid', inputs: ['r1'] },
      ],
    },
  },
  {
    label: 'embedding + lstm (sequences) + lstm',
    shape: [5],
    tokens: 7,
    graph: {
      nodes: [
        { name: 'e', type: 'embedding', inputDim: 7, outputDim: 3, inputs: ['input'] },
        { name: 'r1', type: 'lstm', units: 4, returnSequences: true, inputs: ['e'] },
        { name: 'r2', type: 'lstm', units: 3, recurrentActivation: 'sigmoid', inputs: ['r1'] },
      ],
    },
  },
];

function inputFor(c: (typeof CASES)[number]): tf.Tensor {
  if (c.tokens === undefined) return rnd([4, ...c.shape], 5);
  // 4 sequences of ids covering repeats (the embedding gradient sums rows of repeated ids)
  return tf.tensor(
    Array.from({ length: 4 * (c.shape[0] ?? 1) }, (_, i) => (i * 7 + 3) % (c.tokens ?? 1)),
    [4, ...c.shape],
  );
}

/** Logits and the gradient of a projected loss for every trainable variable, on whatever backend is active. */
function forwardBackward(model: EngramModel, x: tf.Tensor): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(
    () => project(model.forward(x, { training: true })),
    model.trainableVariables(),
  );
  return [value, ...Object.values(grads)];
}

for (const c of CASES) {
  test(`${c.label}: forward and backward on wasm match the cpu backend`, async () => {
    await tf.setBackend('cpu');
    const model = await buildModel(
      { graph: c.graph },
      { inputShape: c.shape, outputs: 3, rng: new Rng(2), baseDir: '.' },
    );
    const weights = model.network.getWeights().map((w) => Float32Array.from(w.dataSync()));
    const shapes = model.network.getWeights().map((w) => w.shape);
    const run = (): tf.Tensor[] => {
      model.network.setWeights(weights.map((w, i) => tf.tensor(w, shapes[i])));
      return forwardBackward(model, inputFor(c));
    };
    const diff = await compareWithCpu(run);
    const line = assertClose(diff, c.label, 1e-5);
    assert.ok(diff.scale > 0, `${line}: gradients are not all zero`);
    assert.equal(tf.getBackend(), 'wasm');
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => forwardBackward(model, inputFor(c))));
    assert.equal(tf.memory().numTensors, before, 'a training step leaves no tensor behind');
    model.dispose();
  });
}
