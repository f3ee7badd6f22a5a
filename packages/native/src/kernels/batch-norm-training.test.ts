import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { load, unload } from '../index.js';
import { maxAbsDiff, seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from './batch-norm-training.js';

/**
 * Largest error allowed, relative to max(|reference value|, 1e-3 · largest |reference| of that output):
 * about 8 float32 ulps (the kernels round the double result once: measured ≤ 6e-8, half an ulp).
 */
const TOLERANCE = 1e-6;
const EPSILON = 1e-3;

interface Case {
  readonly label: string;
  readonly shape: number[];
  /** x = centre + spread · U(−1, 1), per-channel centres in [−centre, centre]. */
  readonly centre: number;
  readonly spread: number;
}

const CASES: Case[] = [
  { label: 'the ResNet stem at batch 32', shape: [32, 32, 32, 20], centre: 1, spread: 2 },
  { label: 'stage 2 at batch 32', shape: [32, 16, 16, 40], centre: 1, spread: 2 },
  { label: 'stage 4 at batch 128', shape: [128, 4, 4, 160], centre: 1, spread: 2 },
  { label: 'one channel', shape: [300, 1], centre: 1, spread: 3 },
  { label: 'one row (variance 0)', shape: [1, 7], centre: 2, spread: 1 },
  { label: 'a rank-1 x (one row)', shape: [5], centre: 2, spread: 1 },
  { label: 'large values (mean 1e4, spread 1)', shape: [64, 8, 8, 16], centre: 1e4, spread: 1 },
  { label: 'large magnitudes (1e6)', shape: [50, 30], centre: 1e6, spread: 1e6 },
];

function data(c: Case, seed: number): { x: Float32Array; scale: Float32Array; offset: Float32Array; dy: Float32Array } {
  const cols = c.shape[c.shape.length - 1] ?? 1;
  const u = seededValues(tf.util.sizeFromShape(c.shape), seed);
  const centres = seededValues(cols, seed + 1);
  const x = u.map((v, i) => c.centre * (centres[i % cols] ?? 0) + c.spread * v);
  const scale = seededValues(cols, seed + 2).map((v) => 0.5 + v);
  const offset = seededValues(cols, seed + 3);
  const dy = seededValues(u.length, seed + 4);
  return { x, scale, offset, dy };
}

/** The forward formulas in double precision: [y, mean, variance, invStd]. */
function forwardReference(x: Float32Array, scale: Float32Array, offset: Float32Array, cols: number): Float64Array[] {
  const rows = x.length / cols;
  const mean = new Float64Array(cols);
  const variance = new Float64Array(cols);
  for (let i = 0; i < x.length; i++) mean[i % cols] = mean[i % cols]! + x[i]! / rows;
  for (let i = 0; i < x.length; i++) variance[i % cols] = variance[i % cols]! + (x[i]! - mean[i % cols]!) ** 2 / rows;
  const invStd = variance.map((v) => 1 / Math.sqrt(v + EPSILON));
  const y = Float64Array.from(
    x,
    (v, i) => (v - mean[i % cols]!) * invStd[i % cols]! * scale[i % cols]! + offset[i % cols]!,
  );
  return [y, mean, variance, invStd];
}

/** The backward formulas in double precision from the given float statistics: [dx, dScale, dOffset]. */
function gradReference(
  dy: Float32Array,
  x: Float32Array,
  scale: Float32Array,
  mean: Float32Array,
  invStd: Float32Array,
): Float64Array[] {
  const cols = scale.length;
  const n = x.length / cols;
  const xhat = Float64Array.from(x, (v, i) => (v - mean[i % cols]!) * invStd[i % cols]!);
  const dOffset = new Float64Array(cols);
  const dScale = new Float64Array(cols);
  for (let i = 0; i < x.length; i++) {
    const c = i % cols;
    dOffset[c] = dOffset[c]! + dy[i]!;
    dScale[c] = dScale[c]! + dy[i]! * xhat[i]!;
  }
  const dx = Float64Array.from(dy, (d, i) => {
    const c = i % cols;
    return ((scale[c]! * invStd[c]!) / n) * (n * d - dOffset[c]! - xhat[i]! * dScale[c]!);
  });
  return [dx, dScale, dOffset];
}

/** Asserts `actual` is within {@link TOLERANCE} of `expected`; returns the largest relative error. */
function expectClose(label: string, actual: ArrayLike<number>, expected: Float64Array): number {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const floor = 1e-3 * expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const error = Math.abs((actual[i] ?? Number.NaN) - e) / Math.max(Math.abs(e), floor, Number.MIN_VALUE);
    assert.ok(error <= TOLERANCE, `${label}[${i}]: ${actual[i]} vs reference ${e} (relative error ${error})`);
    worst = Math.max(worst, error);
  }
  return worst;
}

function forward(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: unknown = EPSILON): tf.Tensor[] {
  return tf.engine().runKernel<tf.Tensor[]>(BATCH_NORM_TRAINING_KERNEL, { x, scale, offset }, {
    varianceEpsilon: epsilon,
  } as never);
}

function backward(dy: tf.Tensor, x: tf.Tensor, scale: tf.Tensor, mean: tf.Tensor, invStd: tf.Tensor): tf.Tensor[] {
  return tf.engine().runKernel<tf.Tensor[]>(BATCH_NORM_TRAINING_GRAD_KERNEL, { dy, x, scale, mean, invStd });
}

describe('native batch norm in training (EngramBatchNormTraining and its gradient)', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  for (const c of CASES) {
    it(`matches the double-precision formulas forward and backward on ${c.label} ${JSON.stringify(c.shape)}`, (t) => {
      const cols = c.shape[c.shape.length - 1] ?? 1;
      const d = data(c, 17);
      const x = tf.tensor(d.x, c.shape);
      const scale = tf.tensor1d(d.scale);
      const offset = tf.tensor1d(d.offset);
      const dy = tf.tensor(d.dy, c.shape);
      const outs = forward(x, scale, offset);
      assert.deepEqual(
        outs.map((t) => t.shape),
        [c.shape, [cols], [cols], [cols]],
      );
      const [y, mean, variance, invStd] = outs.map((t) => t.dataSync() as Float32Array);
      const reference = forwardReference(d.x, d.scale, d.offset, cols);
      const worst = ['y', 'mean', 'variance', 'invStd'].map((name, i) =>
        expectClose(name, [y, mean, variance, invStd][i]!, reference[i]!),
      );
      if (c.shape.length === 1 || c.shape[0] === 1)
        assert.ok(
          variance!.every((v) => v === 0),
          'one row: variance 0',
        );
      const grads = backward(dy, x, scale, outs[1]!, outs[3]!);
      assert.deepEqual(
        grads.map((t) => t.shape),
        [c.shape, [cols], [cols]],
      );
      const gradRef = gradReference(d.dy, d.x, d.scale, mean!, invStd!);
      worst.push(...['dx', 'dScale', 'dOffset'].map((name, i) => expectClose(name, grads[i]!.dataSync(), gradRef[i]!)));
      t.diagnostic(
        `largest relative errors y, mean, variance, invStd, dx, dScale, dOffset: ${worst.map((e) => e.toExponential(1)).join(' ')}`,
      );
      tf.dispose([x, scale, offset, dy, ...outs, ...grads]);
    });
  }

  it('gives the gradient tf.grads takes through tf.moments + tf.batchNorm on the cpu backend', async () => {
    const shape = [16, 6, 6, 12];
    const d = data({ label: '', shape, centre: 1, spread: 2 }, 29);
    const stock = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, offset, scale, EPSILON);
    };
    await tf.setBackend('cpu');
    const expectedTensors = tf.tidy(() => {
      const inputs = [tf.tensor(d.x, shape), tf.tensor1d(d.scale), tf.tensor1d(d.offset)];
      const y = stock(inputs[0]!, inputs[1]!, inputs[2]!);
      return [y, ...tf.grads(stock)(inputs, tf.tensor(d.dy, shape))];
    });
    const expected = expectedTensors.map((o) => Float64Array.from(o.dataSync()));
    tf.dispose(expectedTensors);
    await tf.setBackend('wasm');
    const x = tf.tensor(d.x, shape);
    const scale = tf.tensor1d(d.scale);
    const offset = tf.tensor1d(d.offset);
    const dy = tf.tensor(d.dy, shape);
    const outs = forward(x, scale, offset);
    const grads = backward(dy, x, scale, outs[1]!, outs[3]!);
    // tfjs sums in float32: agreement to float32 accumulation error, not to the bit.
    [outs[0]!, ...grads].forEach((o, i) => {
      const e = expected[i]!;
      const floor = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = maxAbsDiff(o.dataSync(), e);
      assert.ok(diff <= 1e-4 * floor, `${['y', 'dx', 'dScale', 'dOffset'][i]}: max |Δ| ${diff} of ${floor}`);
    });
    tf.dispose([x, scale, offset, dy, ...outs, ...grads]);
  });

  it('gives the same bits with one and two OpenMP threads', (t) => {
    const script = `
      import { createHash } from 'node:crypto';
      import * as tf from '@tensorflow/tfjs';
      import { useWasmNative, seededTensor } from ${JSON.stringify(new URL('../testing/backend-harness.js', import.meta.url).href)};
      import { blasStatus } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
      const result = await useWasmNative();
      if (!result.loaded) throw new Error(result.description);
      const hash = createHash('sha256');
      for (const shape of [[32, 32, 32, 20], [128, 4, 4, 160]]) {
        const c = shape[3];
        const x = tf.add(seededTensor(shape, 3), 5);
        const dy = seededTensor(shape, 4);
        const scale = seededTensor([c], 5), offset = seededTensor([c], 6);
        const outs = tf.engine().runKernel('${BATCH_NORM_TRAINING_KERNEL}', { x, scale, offset }, { varianceEpsilon: 1e-5 });
        const grads = tf.engine().runKernel('${BATCH_NORM_TRAINING_GRAD_KERNEL}', { dy, x, scale, mean: outs[1], invStd: outs[3] });
        for (const o of [...outs, ...grads]) hash.update(new Uint8Array(o.dataSync().buffer));
      }
      console.log(JSON.stringify({ threads: blasStatus()?.threads ?? 0, hash: hash.digest('hex') }));`;
    const run = (threads: number): { threads: number; hash: string } => {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        cwd: new URL('.', import.meta.url),
        env: { ...process.env, OMP_NUM_THREADS: String(threads) },
      });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { threads: number; hash: string };
    };
    const one = run(1);
    const two = run(2);
    assert.equal(one.threads, 1);
    if (two.threads < 2) {
      t.skip(`OpenBLAS runs ${two.threads} thread here`);
      return;
    }
    assert.match(one.hash, /^[0-9a-f]{64}$/);
    assert.equal(two.hash, one.hash);
  });

  it('rejects unsupported inputs with a one-line error naming the kernel and the input', () => {
    const x = tf.ones([4, 3]);
    const c3 = tf.ones([3]);
    const before = tf.memory().numTensors;
    const cases: Array<[() => unknown, RegExp]> = [
      [() => forward(tf.cast(x, 'int32'), c3, c3), /^EngramBatchNormTraining: x must be a non-empty float32 tensor/],
      [() => forward(tf.zeros([0, 3]), c3, c3), /^EngramBatchNormTraining: x must be a non-empty float32 tensor/],
      [() => forward(x, tf.ones([4]), c3), /^EngramBatchNormTraining: scale must be float32 \[3\].*got float32 \[4\]$/],
      [() => forward(x, c3, tf.ones([1, 3])), /^EngramBatchNormTraining: offset must be float32 \[3\]/],
      [() => forward(x, c3, c3, null), /^EngramBatchNormTraining: varianceEpsilon must be a finite number/],
      [() => forward(x, c3, c3, -1), /^EngramBatchNormTraining: varianceEpsilon must be/],
      [
        () => backward(tf.ones([4, 2]), x, c3, c3, c3),
        /^EngramBatchNormTrainingGrad: dy must be float32 of x's shape \[4,3\]/,
      ],
      [() => backward(x, x, c3, tf.ones([2]), c3), /^EngramBatchNormTrainingGrad: mean must be float32 \[3\]/],
      [
        () => backward(x, x, c3, c3, tf.cast(c3, 'int32')),
        /^EngramBatchNormTrainingGrad: invStd must be float32 \[3\]/,
      ],
    ];
    for (const [call, message] of cases) tf.tidy(() => assert.throws(call, { message }));
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind by a rejected call');
    tf.dispose([x, c3]);
  });

  it('leaves no tensor behind over repeated forward and backward calls', () => {
    const shape = [8, 8, 8, 20];
    const x = tf.tensor(seededValues(8 * 8 * 8 * 20, 9), shape);
    const dy = tf.tensor(seededValues(8 * 8 * 8 * 20, 10), shape);
    const scale = tf.ones([20]);
    const offset = tf.zeros([20]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const outs = forward(x, scale, offset);
      tf.dispose([...outs, ...backward(dy, x, scale, outs[1]!, outs[3]!)]);
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, dy, scale, offset]);
  });

  it('is registered on wasm only while the native kernels are loaded', () => {
    for (const name of [BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL]) {
      assert.ok(tf.getKernel(name, 'wasm'), `${name} registered`);
      assert.equal(tf.getKernel(name, 'cpu'), undefined);
    }
    unload();
    assert.equal(tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm'), undefined);
    assert.equal(tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, 'wasm'), undefined);
    assert.ok(load().loaded);
    assert.ok(tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm'));
  });
});
