import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildBenchModel, GRU_BENCH, reducedResnet18Graph } from './bench-models.js';

const EXAMPLE = new URL('../../../../examples/models/reduced-resnet18.graph.json', import.meta.url);

/** Trainable parameters of GEM's reduced ResNet-18 as torch_bench.py builds it (conv weights, BN γ/β, linear). */
function torchResnetParameters(nf: number, classes: number): number {
  const conv = (cin: number, cout: number, k: number): number => cin * cout * k * k + 2 * cout; // + its BN
  let total = conv(3, nf, 3);
  let cin = nf;
  for (const [stage, stride] of [1, 2, 2, 2].entries()) {
    const cout = nf * 2 ** stage;
    for (const s of [stride, 1]) {
      total += conv(cin, cout, 3) + conv(cout, cout, 3);
      if (s !== 1 || cin !== cout) total += conv(cin, cout, 1);
      cin = cout;
    }
  }
  return total + cin * classes + classes;
}

/** Trainable parameters of torch_bench.py's TokenGru: nn.GRU keeps an input and a recurrent bias per gate. */
function torchGruParameters(classes: number): number {
  const { vocabulary, embedding, units } = GRU_BENCH;
  return vocabulary * embedding + 3 * units * (embedding + units + 2) + units * classes + classes;
}

async function trainableParameters(model: 'resnet' | 'gru'): Promise<number> {
  const net = await buildBenchModel(model);
  try {
    return net.trainableVariables().reduce((n, v) => n + v.size, 0);
  } finally {
    net.dispose();
  }
}

test('the bench ResNet is the example reduced ResNet-18 graph, node for node', () => {
  assert.deepEqual(reducedResnet18Graph(20), JSON.parse(readFileSync(EXAMPLE, 'utf8')));
});

test('the bench ResNet and GRU have as many trainable parameters as torch_bench.py’s models', async () => {
  const before = tf.memory().numTensors;
  assert.equal(await trainableParameters('resnet'), torchResnetParameters(20, 10));
  assert.equal(await trainableParameters('gru'), torchGruParameters(10));
  assert.equal(tf.memory().numTensors, before);
});
