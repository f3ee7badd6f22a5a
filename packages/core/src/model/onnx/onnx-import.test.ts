import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../../plugin-api/pipeline-error.js';
import { Rng } from '../../random/rng.js';
import { onnxFixture, toChannelsLast } from '../../testing/onnx-fixtures.js';
import { setUpWasm } from '../../testing/wasm-helpers.js';
import { EngramBatchNormalization } from '../batch-normalization.layer.js';
import { buildModel } from '../model.builder.js';
import { importOnnx, OnnxImportError } from './onnx-import.js';
import { encodeModel, floatTensor } from './onnx-proto.js';

// wasm (Engram's default backend in Node): the ResNet's forward pass takes seconds there, a minute on cpu.
await setUpWasm();

/** Largest |Engram − PyTorch| over every logit of the fixture's reference rows. */
function maxDelta(name: string): { delta: number; argmaxAgree: number; rows: number } {
  const f = onnxFixture(name);
  const { model, input } = importOnnx(f.bytes);
  const before = tf.memory().numTensors;
  const y = tf.tidy(() => {
    const x = tf.tensor(toChannelsLast(f.inputs, f.inputShape), [f.rows, ...input.shape]);
    return (model.predict(x) as tf.Tensor).dataSync();
  });
  assert.equal(tf.memory().numTensors, before, 'prediction frees its tensors');
  let delta = 0;
  let agree = 0;
  for (let r = 0; r < f.rows; r++) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < f.outputs; k++) {
      const i = r * f.outputs + k;
      delta = Math.max(delta, Math.abs((y[i] ?? 0) - (f.logits[i] ?? 0)));
      if ((y[i] ?? 0) > (y[r * f.outputs + a] ?? 0)) a = k;
      if ((f.logits[i] ?? 0) > (f.logits[r * f.outputs + b] ?? 0)) b = k;
    }
    if (a === b) agree++;
  }
  model.dispose();
  return { delta, argmaxAgree: agree, rows: f.rows };
}

for (const [name, layers] of [
  ['mlp', 'Gemm, ReLU, GELU (Erf pattern), Tanh'],
  ['cnn', 'Conv, BatchNormalization, MaxPool, LeakyRelu, Pad+AveragePool, the Shape/Gather/Concat flatten'],
  ['resnet18-reduced', 'the reduced ResNet-18 (nf 20, residual Adds, strided and 1×1 shortcut convs)'],
] as const) {
  test(`the imported ${name} (${layers}) gives PyTorch's logits within 1e-4 on every reference row`, () => {
    const { delta, argmaxAgree, rows } = maxDelta(name);
    assert.ok(delta <= 1e-4, `max |Δ| ${delta}`);
    assert.equal(argmaxAgree, rows);
  });
}

test('an imported image model takes channels-last samples and names its output layer head', () => {
  const { model, input } = importOnnx(onnxFixture('cnn').bytes);
  assert.deepEqual(input.shape, [28, 28, 1]);
  assert.deepEqual(input.onnxShape.slice(1), [1, 28, 28]);
  assert.equal(model.layers[model.layers.length - 1]?.name, 'head');
  assert.ok(
    model.layers.some((l) => l.getClassName() === 'BatchNormalization'),
    'batch norm stays a layer',
  );
  assert.ok(
    model.layers.every((l) => l.getClassName() !== 'BatchNormalization' || l instanceof EngramBatchNormalization),
    'imported batch norm trains through the fused op',
  );
  model.dispose();
});

function tinyModel(opType: string): Uint8Array {
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [{ name: 'odd', opType, input: ['input'], output: ['logits'] }],
      initializer: [floatTensor('unused', [1], Float32Array.of(1))],
      input: [
        { name: 'input', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 3 }] } } } },
      ],
      output: [{ name: 'logits' }],
    },
  });
}

test('a pipeline loading a model with an unsupported operator fails at /model/load naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-'));
  writeFileSync(join(dir, 'odd.onnx'), tinyModel('Sin'));
  const start = tf.memory().numTensors;
  await assert.rejects(
    buildModel({ load: 'odd.onnx' }, { inputShape: [3], outputs: 3, rng: new Rng(1), baseDir: dir }),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.problems[0]?.path === '/model/load' &&
      /node "odd" \(Sin\) is not supported\. Supported operators: Add, /.test(e.problems[0].message) &&
      !e.problems[0].message.includes('\n'),
  );
  assert.equal(tf.memory().numTensors, start);
});

test('a file that is not ONNX is refused in one line without quoting it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-'));
  writeFileSync(join(dir, 'bad.onnx'), 'this is { not protobuf at all ]]]');
  await assert.rejects(
    buildModel({ load: 'bad.onnx' }, { inputShape: [3], outputs: 3, rng: new Rng(1), baseDir: dir }),
    (e: unknown) =>
      e instanceof PipelineError &&
      /cannot load .*bad\.onnx: /.test(e.problems[0]?.message ?? '') &&
      !(e.problems[0]?.message ?? '').includes('not protobuf at all'),
  );
});

test('an imported model whose input does not match the data is refused at /model/load', async () => {
  const f = onnxFixture('cnn');
  await assert.rejects(
    buildModel({ load: f.file }, { inputShape: [784], outputs: 10, rng: new Rng(1), baseDir: '/' }),
    (e: unknown) =>
      e instanceof PipelineError && /takes inputs of shape \[28, 28, 1\]/.test(e.problems[0]?.message ?? ''),
  );
});

test('ReduceMean over the channel axis is refused naming the node; over the spatial axes it is global average pooling', () => {
  const meanModel = (axes: number[]): Uint8Array =>
    encodeModel({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'mean',
        node: [
          {
            name: 'mean',
            opType: 'ReduceMean',
            input: ['input'],
            output: ['pooled'],
            attribute: [
              { name: 'axes', type: 7, ints: axes },
              { name: 'keepdims', type: 2, i: 0 },
            ],
          },
          { name: 'fc', opType: 'Gemm', input: ['pooled', 'w'], output: ['logits'] },
        ],
        initializer: [floatTensor('w', [3, 2], Float32Array.of(1, 0, 0, 1, 1, 1))],
        input: [
          {
            name: 'input',
            type: {
              tensorType: {
                elemType: 1,
                shape: { dim: [{ dimParam: 'n' }, { dimValue: 3 }, { dimValue: 2 }, { dimValue: 2 }] },
              },
            },
          },
        ],
        output: [{ name: 'logits' }],
      },
    });
  assert.throws(
    () => importOnnx(meanModel([1])),
    (e: unknown) =>
      e instanceof OnnxImportError &&
      e.message ===
        'node "mean" (ReduceMean): the mean over axes [1] is not supported (only the spatial mean of an image)',
  );
  const { model } = importOnnx(meanModel([2, 3]));
  // one sample [C=3, H=2, W=2] in NCHW, given channels-last: channel c holds c, c+10, c+20, c+30
  const nhwc = Float32Array.from({ length: 12 }, (_, i) => (i % 3) + 10 * Math.floor(i / 3));
  const y = tf.tidy(() => (model.predict(tf.tensor4d(nhwc, [1, 2, 2, 3])) as tf.Tensor).dataSync());
  // channel means 15, 16, 17 times W = [[1, 0], [0, 1], [1, 1]]
  assert.deepEqual(Array.from(y), [15 + 17, 16 + 17]);
  model.dispose();
});
