import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../random/rng.js';
import { onnxFixture } from '../../testing/onnx-fixtures.js';
import { setUpWasm } from '../../testing/wasm-helpers.js';
import { buildModel } from '../model.builder.js';
import { exportOnnx, type OnnxExportOptions } from './onnx-export.js';
import { importOnnx } from './onnx-import.js';
import { decodeModel } from './onnx-proto.js';

// onnxruntime-node is the oracle here (a root devDependency, never a dependency of Engram).
await setUpWasm();

const options = (o: Partial<OnnxExportOptions> = {}): OnnxExportOptions => ({
  softmax: false,
  normalize: [],
  channelsFirst: false,
  metadata: {},
  producerVersion: 'test',
  ...o,
});

async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor('float32', x, dims) });
  const out = Object.values(result)[0];
  return Float32Array.from(out?.data as Float32Array);
}

for (const name of ['mlp', 'cnn', 'resnet18-reduced']) {
  test(`import → 0 steps → export of ${name} gives PyTorch's logits under ONNX Runtime (NCHW input, within 1e-4)`, async () => {
    const f = onnxFixture(name);
    const { model } = importOnnx(f.bytes);
    const bytes = exportOnnx(model, options({ channelsFirst: true }));
    model.dispose();
    const y = await runOnnx(bytes, f.inputs, [f.rows, ...f.inputShape]);
    assert.equal(y.length, f.logits.length);
    const delta = y.reduce((m, v, i) => Math.max(m, Math.abs(v - (f.logits[i] ?? 0))), 0);
    assert.ok(delta <= 1e-4, `max |Δ| ${delta}`);
  });
}

test("an Engram-built CNN (conv 'same' stride 2, batch norm, pooling, dropout) exports with normalisation inside: ONNX Runtime's probabilities match Engram's within 1e-5", async () => {
  const rng = new Rng(3);
  const model = await buildModel(
    {
      layers: [
        { type: 'conv2d', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
        { type: 'batchNormalization' },
        { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'tanh' },
        { type: 'maxPooling2d', poolSize: 2, padding: 'same' },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.3 },
        { type: 'dense', units: 12, activation: 'gelu' },
      ],
    },
    { inputShape: [11, 9, 2], outputs: 5, rng, baseDir: '/' },
  );
  // Train a few steps so batch-norm statistics and weights are not their initial values.
  const optimizer = tf.train.adam(0.01);
  const xs = tf.randomNormal([64, 11, 9, 2], 0.5, 2, 'float32', 5);
  const ys = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 64 }, (_, i) => i % 5),
      'int32',
    ),
    5,
  );
  for (let s = 0; s < 5; s++)
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.forward(xs, { training: true })));
  const mean = [0.5, -0.25];
  const std = [2, 0.5];
  const bytes = exportOnnx(model.network, options({ softmax: true, normalize: [{ mean, std, epsilon: 1e-6 }] }));
  const raw = tf.randomNormal([200, 11, 9, 2], 0.5, 2, 'float32', 9);
  const start = tf.memory().numTensors;
  const engram = tf.tidy(() => {
    const normalized = tf.div(tf.sub(raw, tf.tensor1d(mean)), tf.add(tf.tensor1d(std), 1e-6));
    return tf.softmax(model.forward(normalized, { training: false })).dataSync();
  });
  assert.equal(tf.memory().numTensors, start);
  const onnx = await runOnnx(bytes, Float32Array.from(raw.dataSync()), [200, 11, 9, 2]);
  const delta = onnx.reduce((m, v, i) => Math.max(m, Math.abs(v - (engram[i] ?? 0))), 0);
  assert.ok(delta <= 1e-5, `max |Δp| ${delta}`);
  let same = 0;
  for (let r = 0; r < 200; r++) {
    const row = (a: ArrayLike<number>): number[] => Array.from({ length: 5 }, (_, k) => a[r * 5 + k] ?? 0);
    const argmax = (v: number[]): number => v.indexOf(Math.max(...v));
    if (argmax(row(onnx)) === argmax(row(engram))) same++;
  }
  assert.equal(same, 200, 'same arg-max on every row');
  tf.dispose([xs, ys, raw]);
  optimizer.dispose();
  model.dispose();
});

test('the exported file carries its metadata_props, one input named input and the probabilities output', () => {
  const { model } = importOnnx(onnxFixture('mlp').bytes);
  const bytes = exportOnnx(
    model,
    options({ softmax: true, metadata: { classes: '["a","b"]', input_layout: 'features' } }),
  );
  model.dispose();
  const m = decodeModel(bytes);
  assert.deepEqual(
    m.metadataProps?.map((p) => [p.key, p.value]),
    [
      ['classes', '["a","b"]'],
      ['input_layout', 'features'],
    ],
  );
  assert.deepEqual(
    m.graph?.input?.map((i) => i.name),
    ['input'],
  );
  assert.deepEqual(
    m.graph?.output?.map((o) => o.name),
    ['probabilities'],
  );
  assert.equal(m.opsetImport?.[0]?.version, 13);
});

test('an Engram-built residual network (stride-2 zero padding, batch norm, 1×1 shortcut, global pooling) exports and imports back to the same logits, without Permute layers', async () => {
  const conv = (name: string, input: string, kernelSize: number, strides: number, padding: 'same' | 'valid') => ({
    name,
    type: 'conv2d' as const,
    filters: 6,
    kernelSize,
    strides,
    padding,
    useBias: false,
    inputs: [input],
  });
  const bn = (name: string, input: string) => ({ name, type: 'batchNormalization' as const, inputs: [input] });
  const model = await buildModel(
    {
      graph: {
        input: 'input',
        output: 'pool',
        nodes: [
          conv('stem', 'input', 3, 1, 'same'),
          bn('stem_bn', 'stem'),
          { name: 'stem_relu', type: 'activation', activation: 'relu', inputs: ['stem_bn'] },
          { name: 'pad', type: 'zeroPadding2d', padding: 1, inputs: ['stem_relu'] },
          conv('down', 'pad', 3, 2, 'valid'),
          bn('down_bn', 'down'),
          conv('short', 'stem_relu', 1, 2, 'valid'),
          bn('short_bn', 'short'),
          { name: 'sum', type: 'add', inputs: ['down_bn', 'short_bn'] },
          { name: 'out', type: 'activation', activation: 'relu', inputs: ['sum'] },
          { name: 'pool', type: 'globalAveragePooling2d', inputs: ['out'] },
        ],
      },
    },
    { inputShape: [10, 10, 3], outputs: 4, rng: new Rng(8), baseDir: '/' },
  );
  // A few steps so batch-norm statistics are not their initial values.
  const optimizer = tf.train.adam(0.01);
  const xs = tf.randomNormal([32, 10, 10, 3], 0.5, 2, 'float32', 6);
  const ys = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 4),
      'int32',
    ),
    4,
  );
  for (let s = 0; s < 3; s++)
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.forward(xs, { training: true })));
  const bytes = exportOnnx(model.network, options({ channelsFirst: true }));
  const { model: imported, input } = importOnnx(bytes);
  assert.deepEqual(input.shape, [10, 10, 3]);
  const classes = (m: tf.LayersModel): string[] => m.layers.map((l) => l.getClassName());
  assert.ok(!classes(imported).includes('Permute'), classes(imported).join(', '));
  assert.equal(
    classes(imported).filter((c) => c === 'Conv2D').length,
    classes(model.network).filter((c) => c === 'Conv2D').length,
  );
  const x = tf.randomNormal([20, 10, 10, 3], 0, 1, 'float32', 7);
  const start = tf.memory().numTensors;
  const engram = tf.tidy(() => model.forward(x, { training: false }).dataSync());
  const back = tf.tidy(() => (imported.predict(x) as tf.Tensor).dataSync());
  assert.equal(tf.memory().numTensors, start);
  const delta = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
    Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? NaN))), 0);
  assert.ok(delta(back, engram) <= 1e-5, `imported max |Δ| ${delta(back, engram)}`);
  const nchw = tf.tidy(() => Float32Array.from(tf.transpose(x, [0, 3, 1, 2]).dataSync()));
  const onnx = await runOnnx(bytes, nchw, [20, 3, 10, 10]);
  assert.ok(delta(onnx, engram) <= 1e-4, `ONNX Runtime max |Δ| ${delta(onnx, engram)}`);
  tf.dispose([xs, ys, x]);
  optimizer.dispose();
  imported.dispose();
  model.dispose();
});
