import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { decodeModel, fileModelLoader } from '@engram/core/internal';
import { finalDigest, MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

// Graph models (model.graph with a residual `add`, a `concatenate` and batch norm) through the whole
// command line: --from, engram eval, export to tfjs and ONNX (run by ONNX Runtime as the oracle).

/** A residual block with batch norm and a concatenated side branch over flat features. */
const GRAPH = {
  graph: {
    nodes: [
      { name: 'd1', type: 'dense', units: 12, activation: 'relu', inputs: ['input'] },
      { name: 'd2', type: 'dense', units: 12, inputs: ['d1'] },
      { name: 'bn', type: 'batchNormalization', inputs: ['d2'] },
      { name: 'sum', type: 'add', inputs: ['bn', 'd1'] },
      { name: 'relu', type: 'activation', activation: 'relu', inputs: ['sum'] },
      { name: 'side', type: 'dense', units: 4, activation: 'tanh', inputs: ['input'] },
      { name: 'cat', type: 'concatenate', inputs: ['relu', 'side'] },
    ],
    output: 'cat',
  },
};

interface Summary {
  accuracyMatrix: (number | null)[][];
  steps: number;
}

const summary = (dir: string): Summary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;

/** Synthetic class-incremental data (6 classes, 2 per experience) on a graph model, replay + EWC. */
function pipeline(name: string, only?: Record<string, number>): Record<string, unknown> {
  return {
    name,
    seed: 5,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'synthetic',
      numClasses: 6,
      features: 8,
      samplesPerClass: 30,
      scenario: { type: 'class-incremental', classesPerExperience: 2, ...(only ? { only } : {}) },
      testFraction: 0.25,
    },
    preprocess: [{ kind: 'normalize' }],
    model: GRAPH,
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: [
      { kind: 'replay', bufferSize: 20 },
      { kind: 'ewc', lambda: 10 },
    ],
    training: { epochs: 2, batchSize: 16 },
    evaluation: { on: 'all', initial: false },
    checkpoint: { enabled: true },
  };
}

function cli(dir: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: dir, timeout: patience(240_000) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(dir: string, name: string, doc: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

test('a graph model run as two invocations, the second --from the first, ends with one run’s accuracy matrix and weights, bit for bit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-from-'));
  try {
    const day1 = cli(dir, ['run', write(dir, 'day1', pipeline('day1', { first: 0, last: 0 })), '--out', 'day1']);
    assert.equal(day1.status, 0, day1.stderr);
    const day2 = cli(dir, [
      'run',
      write(dir, 'day2', pipeline('day2', { first: 1 })),
      '--from',
      'day1',
      '--out',
      'day2',
      '--quiet',
    ]);
    assert.equal(day2.status, 0, day2.stderr);
    assert.match(day2.stderr, /continuing run "day1"/);
    const one = cli(dir, ['run', write(dir, 'one', pipeline('one')), '--out', 'one', '--quiet']);
    assert.equal(one.status, 0, one.stderr);
    const split = summary(join(dir, 'day2'));
    const whole = summary(join(dir, 'one'));
    assert.equal(whole.accuracyMatrix.length, 3);
    assert.deepEqual(split.accuracyMatrix, whole.accuracyMatrix);
    assert.equal(split.steps, whole.steps);
    assert.equal(finalDigest(join(dir, 'day2')).weights, finalDigest(join(dir, 'one')).weights);
    assert.equal(finalDigest(join(dir, 'day2')).state, finalDigest(join(dir, 'one')).state);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Row {
  experience: number;
  x: number[];
  y: number;
}

test('engram eval and export (tfjs, ONNX) of a graph model with merges: ONNX Runtime gives eval’s arg-max and accuracy, probabilities within 1e-5', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-export-'));
  try {
    const file = write(dir, 'p', pipeline('graph-export'));
    const run = cli(dir, ['run', file, '--out', 'out', '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    const onnxOut = cli(dir, ['export', 'out', '--to', 'onnx', '--format', 'onnx', '--softmax', '--test-data', file]);
    assert.equal(onnxOut.status, 0, onnxOut.stderr);
    const tfjsOut = cli(dir, ['export', 'out', '--to', 'tfjs', '--softmax']);
    assert.equal(tfjsOut.status, 0, tfjsOut.stderr);
    const evaluated = cli(dir, ['eval', file, '--checkpoint', 'out']);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const evalAverage = Number(/average accuracy ([\d.]+)%/.exec(evaluated.stdout)?.[1] ?? Number.NaN);
    assert.ok(evalAverage > 100 / 6, `eval learned something: ${evaluated.stdout}`);

    const bytes = readFileSync(join(dir, 'onnx', 'model.onnx'));
    const ops = new Set(decodeModel(bytes).graph?.node?.map((n) => n.opType) ?? []);
    assert.ok(ops.has('Add') && ops.has('Concat'), `merges in the ONNX graph: ${[...ops].join(', ')}`);
    const rows = readFileSync(join(dir, 'onnx', 'test.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    const n = rows.length;
    const x = Float32Array.from(rows.flatMap((r) => r.x));
    const session = await ort.InferenceSession.create(bytes);
    const onnxP = (await session.run({ input: new ort.Tensor('float32', x, [n, 8]) }))['probabilities']
      ?.data as Float32Array;

    // Engram's own prediction: the tfjs export, with engram.json's fitted normalisation applied by hand.
    const manifest = JSON.parse(readFileSync(join(dir, 'tfjs', 'engram.json'), 'utf8')) as {
      preprocessing: Array<{ fitted: { mean: number[]; std: number[] }; options: { epsilon?: number } }>;
    };
    const norm = manifest.preprocessing[0];
    assert.ok(norm && norm.fitted.mean.length === 8, 'per-feature statistics');
    const model = await tf.loadLayersModel(fileModelLoader(join(dir, 'tfjs', 'model.json')));
    const start = tf.memory().numTensors;
    const engramP = tf.tidy(() => {
      const z = tf.div(
        tf.sub(tf.tensor2d(x, [n, 8]), tf.tensor1d(norm.fitted.mean)),
        tf.add(tf.tensor1d(norm.fitted.std), norm.options.epsilon ?? 1e-6),
      );
      return (model.predict(z) as tf.Tensor).dataSync();
    });
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
    assert.equal(onnxP.length, n * 6);
    const delta = onnxP.reduce((m, v, i) => Math.max(m, Math.abs(v - (engramP[i] ?? 0))), 0);
    assert.ok(delta <= 1e-5, `max |Δp| ${delta}`);

    const argmax = (p: ArrayLike<number>, r: number): number => {
      let best = 0;
      for (let k = 1; k < 6; k++) if ((p[r * 6 + k] ?? 0) > (p[r * 6 + best] ?? 0)) best = k;
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
    assert.ok(Math.abs(onnxAverage - evalAverage) <= 0.05, `engram eval ${evalAverage}%, ONNX Runtime ${onnxAverage}%`);

    // The exported files, loaded back with a chain surgery: refused at its pointer before training (exit 2).
    for (const load of ['tfjs/model.json', 'onnx/model.onnx']) {
      const widen = write(dir, 'widen', {
        ...pipeline('widen'),
        model: { load },
        adjust: [{ kind: 'widen-layer', layers: ['d1'], units: 16 }],
      });
      const refused = cli(dir, ['run', widen, '--out', 'widen', '--quiet']);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(
        refused.stderr,
        /\/adjust\/0: widen-layer rewrites a chain of layers, and the loaded model \(.*\) has merge nodes \((Add|Concatenate) layer "[^"]+" takes 2 inputs\)/,
      );
      assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
