import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec } from '../pipeline/layer.schema.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { Rng } from '../random/rng.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { graphProblems } from './graph-check.js';
import { buildModel } from './model.builder.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const target = (inputShape: number[], seed = 3) => ({ inputShape, outputs: 3, rng: new Rng(seed), baseDir: '.' });

async function problemsOf(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (e) {
    if (e instanceof PipelineError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

const residual: GraphSpec = {
  nodes: [
    { name: 'd1', type: 'dense', units: 4, activation: 'relu', inputs: ['input'] },
    { name: 'd2', type: 'dense', units: 4, inputs: ['d1'] },
    { name: 'sum', type: 'add', inputs: ['d2', 'input'] },
    { name: 'both', type: 'concatenate', inputs: ['sum', 'd1'] },
  ],
};

test('a residual graph computes head(concat(relu(x·W1+b1)·W2+b2 + x, relu(x·W1+b1))), as done by hand', async () => {
  const before = tf.memory().numTensors;
  const model = await buildModel({ graph: residual }, target([4]));
  const w = (name: string) => model.network.getLayer(name).getWeights();
  const [w1, b1] = w('d1');
  const [w2, b2] = w('d2');
  const [wh, bh] = w('head');
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 11);
  const diff = tf.tidy(() => {
    const h1 = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor), b1 as tf.Tensor));
    const sum = tf.add(tf.add(tf.matMul(h1, w2 as tf.Tensor), b2 as tf.Tensor), x);
    const byHand = tf.add(tf.matMul(tf.concat([sum, h1], 1), wh as tf.Tensor), bh as tf.Tensor);
    const got = model.forward(x, { training: false });
    assert.deepEqual(got.shape, [5, 3]);
    return tf.max(tf.abs(tf.sub(got, byHand))).dataSync()[0] ?? Number.NaN;
  });
  assert.ok(diff < 1e-6, `max |Δ| ${diff}`);
  assert.deepEqual(
    model.network.layers.map((l) => l.name),
    ['input', 'd1', 'd2', 'sum', 'both', 'head'],
    'nodes keep their names; the head is appended after the output node',
  );
  x.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor outlives the model');
});

test('the same graph and seed build the same weights; another seed builds others', async () => {
  const weights = async (seed: number) => {
    const m = await buildModel({ graph: residual }, target([4], seed));
    const values = m.network.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return values;
  };
  assert.deepEqual(await weights(5), await weights(5));
  assert.notDeepEqual(await weights(5), await weights(6));
});

test('a cycle is refused at the input that closes it', () => {
  const graph: GraphSpec = {
    nodes: [
      { name: 'a', type: 'dense', units: 4, inputs: ['input'] },
      { name: 'b', type: 'add', inputs: ['a', 'd'] },
      { name: 'd', type: 'dense', units: 4, inputs: ['c'] },
      { name: 'c', type: 'dense', units: 4, inputs: ['b'] },
    ],
    output: 'd',
  };
  const found = graphProblems(graph);
  assert.equal(found.length, 1);
  assert.equal(found[0]?.path, '/model/graph/nodes/3/inputs/0');
  assert.match(found[0]?.message ?? '', /cycle/);
});

test('engram validate refuses an unknown input, a duplicate name, a lone add and a dead node at their pointers', async () => {
  const found = await problemsOf(() =>
    loadFixture(
      fixtureDocument({
        model: {
          graph: {
            nodes: [
              { name: 'dense1', type: 'dense', units: 4, inputs: ['inptu'] },
              { name: 'dense1', type: 'dense', units: 4, inputs: ['input'] },
              { name: 'sum', type: 'add', inputs: ['dense1'] },
            ],
          },
        },
      }),
    ),
  );
  assert.deepEqual(
    found.map((p) => p.split(':')[0]),
    ['/model/graph/nodes/1/name', '/model/graph/nodes/0/inputs/0', '/model/graph/nodes/2/inputs'],
  );
  assert.match(found[1] ?? '', /no node named "inptu" \(did you mean "input"\?\)/);
  const dead = await problemsOf(() =>
    loadFixture(
      fixtureDocument({
        model: {
          graph: {
            nodes: [
              { name: 'unused', type: 'dense', units: 4, inputs: ['input'] },
              { name: 'kept', type: 'dense', units: 4, inputs: ['input'] },
            ],
          },
        },
      }),
    ),
  );
  assert.deepEqual(dead, [
    '/model/graph/nodes/0: node "unused" does not connect to the output "kept"; remove it or use it',
  ]);
  const stacked = await problemsOf(() =>
    loadFixture(fixtureDocument({ model: { layers: [{ type: 'dense', units: 4 }, { type: 'add' }] } })),
  );
  assert.deepEqual(stacked, ['/model/layers/1: add merges several inputs: write the model as a "graph"']);
});

test('mismatched shapes are refused at the node, and a non-flat output at the output', async () => {
  const mismatch = await problemsOf(() =>
    buildModel(
      {
        graph: {
          nodes: [
            { name: 'wide', type: 'dense', units: 8, inputs: ['input'] },
            { name: 'sum', type: 'add', inputs: ['wide', 'input'] },
          ],
        },
      },
      target([4]),
    ),
  );
  assert.equal(mismatch.length, 1);
  assert.match(mismatch[0] ?? '', /^\/model\/graph\/nodes\/1: add "sum" does not fit its inputs \[8\] and \[4\]/);
  const image = await problemsOf(() =>
    buildModel(
      {
        graph: {
          nodes: [{ name: 'c', type: 'conv2d', filters: 2, kernelSize: 3, inputs: ['input'] }],
          output: 'c',
        },
      },
      target([6, 6, 1]),
    ),
  );
  assert.equal(image.length, 1);
  assert.match(image[0] ?? '', /^\/model\/graph\/output: .*\[4, 4, 2\].*globalAveragePooling2d or flatten/);
  assert.equal(tf.memory().numTensors, 0, 'refused builds free what they allocated');
});

test("the shipped reduced ResNet-18 has PyTorch's parameter count for 32×32×3 and 28×28×1 inputs", async () => {
  const graph = JSON.parse(
    readFileSync(join(root, 'examples', 'models', 'reduced-resnet18.graph.json'), 'utf8'),
  ) as GraphSpec;
  // nn.Module parameters of GEM's ResNet18(nclasses=10, nf=20) with 3 and 1 input channels (torch 1.13).
  for (const [shape, expected] of [
    [[32, 32, 3], 1_094_750],
    [[28, 28, 1], 1_094_390],
  ] as const) {
    const model = await buildModel({ graph, head: { units: 10 } }, target([...shape]));
    const trainable = model.trainableVariables().reduce((n, v) => n + v.size, 0);
    assert.equal(trainable, expected, `input ${shape.join('×')}`);
    model.dispose();
  }
});

test('a graph given as a file path is read relative to the pipeline and checked at /model/graph', async () => {
  const loaded = await loadFixture(
    fixtureDocument({ model: { graph: 'models/reduced-resnet18.graph.json' } }),
    join(root, 'examples', 'pipeline.json'),
  );
  const model = loaded.definition.model as { graph: GraphSpec };
  assert.equal(typeof model.graph, 'object', 'the definition carries the graph itself (resume needs no file)');
  assert.equal(model.graph.nodes.length, 69);
  const missing = await problemsOf(() => loadFixture(fixtureDocument({ model: { graph: 'nope.json' } })));
  assert.match(missing[0] ?? '', /^\/model\/graph: cannot read the graph file .*nope\.json: no such file$/);
});
