import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { decodeModel, fileModelLoader } from '@engram/core/internal';
import { patience } from '../testing/patience.js';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'main.js');
const average = (text: string): number => Number(/average accuracy ([\d.]+)%/.exec(text)?.[1] ?? Number.NaN);

interface Row {
  experience: number;
  x: number[];
  y: number;
}

test('engram export --format onnx: ONNX Runtime on the raw test sets gives the arg-max and accuracy of engram eval, probabilities within 1e-5', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-export-onnx-'));
  const pipeline = {
    name: 'onnx-export',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'mnist', limitPerClass: 30, scenario: { type: 'class-incremental', experiences: 2 } },
    preprocess: [{ kind: 'normalize', per: 'channel' }],
    model: {
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
        { type: 'batchNormalization' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 16, activation: 'relu' },
      ],
    },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'replay', bufferSize: 50 },
    training: { epochs: 1, batchSize: 16 },
    checkpoint: { enabled: true },
  };
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(pipeline));
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: patience(300_000), cwd: dir });
  const run = cli(['run', file, '--out', 'out', '--quiet']);
  assert.equal(run.status, 0, run.stderr);
  const onnxOut = cli(['export', 'out', '--to', 'onnx', '--format', 'onnx', '--softmax', '--test-data', file]);
  assert.equal(onnxOut.status, 0, onnxOut.stderr);
  assert.doesNotMatch(onnxOut.stderr, /not in the ONNX graph/, 'normalize goes inside the graph');
  const tfjsOut = cli(['export', 'out', '--to', 'tfjs', '--softmax']);
  assert.equal(tfjsOut.status, 0, tfjsOut.stderr);
  const evaluated = cli(['eval', file, '--checkpoint', 'out']);
  assert.equal(evaluated.status, 0, evaluated.stderr);

  const bytes = readFileSync(join(dir, 'onnx', 'model.onnx'));
  const meta = Object.fromEntries((decodeModel(bytes).metadataProps ?? []).map((p) => [p.key, p.value]));
  assert.deepEqual(JSON.parse(meta['classes'] ?? '[]'), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(meta['input_layout'], 'NHWC');
  assert.equal(meta['preprocessing_in_graph'], 'true');

  const rows = readFileSync(join(dir, 'onnx', 'test.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  const n = rows.length;
  const x = Float32Array.from(rows.flatMap((r) => r.x));
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor('float32', x, [n, 28, 28, 1]) });
  const onnxP = result['probabilities']?.data as Float32Array;

  // Engram's own prediction: its tfjs export, with engram.json's fitted normalisation applied by hand.
  const manifest = JSON.parse(readFileSync(join(dir, 'tfjs', 'engram.json'), 'utf8')) as {
    preprocessing: Array<{ fitted: { mean: number[]; std: number[] }; options: { epsilon?: number } }>;
  };
  const norm = manifest.preprocessing[0];
  assert.ok(norm && norm.fitted.mean.length === 1, 'per-channel statistics of a 1-channel image');
  const model = await tf.loadLayersModel(fileModelLoader(join(dir, 'tfjs', 'model.json')));
  const engramP = tf.tidy(() => {
    const t = tf.tensor4d(x, [n, 28, 28, 1]);
    const z = tf.div(tf.sub(t, norm.fitted.mean[0] ?? 0), (norm.fitted.std[0] ?? 1) + (norm.options.epsilon ?? 1e-6));
    return (model.predict(z) as tf.Tensor).dataSync();
  });
  model.dispose();
  const delta = onnxP.reduce((m, v, i) => Math.max(m, Math.abs(v - (engramP[i] ?? 0))), 0);
  assert.ok(delta <= 1e-5, `max |Δp| ${delta}`);

  const argmax = (p: ArrayLike<number>, r: number): number => {
    let best = 0;
    for (let k = 1; k < 10; k++) if ((p[r * 10 + k] ?? 0) > (p[r * 10 + best] ?? 0)) best = k;
    return best;
  };
  const correct = new Map<number, [number, number]>();
  rows.forEach((row, r) => {
    assert.equal(argmax(onnxP, r), argmax(engramP, r), `row ${r}: same arg-max`);
    const [c, t] = correct.get(row.experience) ?? [0, 0];
    correct.set(row.experience, [c + (argmax(onnxP, r) === row.y ? 1 : 0), t + 1]);
  });
  const perExperience = [...correct.values()].map(([c, t]) => c / t);
  const onnxAverage = (100 * perExperience.reduce((a, b) => a + b, 0)) / perExperience.length;
  const evalAverage = average(evaluated.stdout);
  assert.ok(
    Number.isFinite(evalAverage) && Math.abs(onnxAverage - evalAverage) <= 0.05,
    `engram eval ${evalAverage}%, ONNX Runtime ${onnxAverage}%`,
  );
});
