/**
 * Time per call of batch norm in training on wasm + native: the fused kernels (EngramBatchNormTraining
 * forward, EngramBatchNormTrainingGrad backward) against the stock path (tf.moments + tf.batchNorm
 * forward, tf.grads through it for dx, dScale, dOffset) with the other native kernels loaded, in
 * interleaved rounds; prints the medians in ms and the largest difference between the two paths' outputs.
 *
 * Usage: node dist/bench/batch-norm-training.bench.js [--shape 32,32,32,20] [--reps 20] [--rounds 5] [--json]
 * (`--reps 2 --rounds 1` is a smoke run).
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '../kernels/batch-norm-training.js';
import { maxAbsDiff, seededTensor, useWasmNative } from '../testing/backend-harness.js';

const EPSILON = 1e-5;

function option(argv: readonly string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return (i >= 0 ? argv[i + 1] : undefined) ?? fallback;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface Inputs {
  readonly x: tf.Tensor;
  readonly dy: tf.Tensor;
  readonly scale: tf.Tensor;
  readonly offset: tf.Tensor;
}

function fusedForward(t: Inputs): tf.Tensor[] {
  return tf
    .engine()
    .runKernel<tf.Tensor[]>(
      BATCH_NORM_TRAINING_KERNEL,
      { x: t.x, scale: t.scale, offset: t.offset },
      { varianceEpsilon: EPSILON },
    );
}

/** [y, dx, dScale, dOffset] through the fused kernels. */
function fusedStep(t: Inputs): tf.Tensor[] {
  const outs = fusedForward(t);
  const [y, mean, , invStd] = outs;
  if (!y || !mean || !invStd) throw new Error(`${BATCH_NORM_TRAINING_KERNEL}: missing outputs`);
  const grads = tf
    .engine()
    .runKernel<tf.Tensor[]>(BATCH_NORM_TRAINING_GRAD_KERNEL, { dy: t.dy, x: t.x, scale: t.scale, mean, invStd });
  tf.dispose(outs.slice(1));
  return [y, ...grads];
}

function stockForward(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, offset, scale, EPSILON);
}

/**
 * [dx, dScale, dOffset] through tf.moments + tf.batchNorm and tf.grads, which runs the forward pass once
 * (y is not returned: tf.grads keeps it internal).
 */
function stockStep(t: Inputs): tf.Tensor[] {
  return tf.grads((x: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => stockForward(x, s, o))([t.x, t.scale, t.offset], t.dy);
}

/** Median ms per call of `fn` over `reps` calls (outputs disposed). */
function time(reps: number, fn: () => tf.Tensor | tf.Tensor[]): number {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const out = fn();
    times.push(performance.now() - start);
    tf.dispose(out);
  }
  return median(times);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const shape = option(argv, '--shape', '32,32,32,20').split(',').map(Number);
  const reps = Number(option(argv, '--reps', '20'));
  const rounds = Number(option(argv, '--rounds', '5'));
  const loaded = await useWasmNative();
  if (!loaded.loaded) throw new Error(`native kernels not loaded: ${loaded.description}`);
  const c = shape[shape.length - 1] ?? 1;
  const t: Inputs = tf.tidy(() => ({
    x: tf.add(seededTensor(shape, 1), 0.5),
    dy: seededTensor(shape, 2),
    scale: tf.add(seededTensor([c], 3), 1),
    offset: seededTensor([c], 4),
  }));
  const stepOut = [fusedStep(t), [tf.tidy(() => stockForward(t.x, t.scale, t.offset)), ...stockStep(t)]];
  const [fusedValues, stockValues] = stepOut.map((outs) => outs.map((o) => o.dataSync()));
  const differences = ['y', 'dx', 'dScale', 'dOffset'].map((name, i) => ({
    name,
    maxAbsDiff: maxAbsDiff(fusedValues?.[i] ?? [], stockValues?.[i] ?? []),
  }));
  tf.dispose(stepOut.flat());
  const paths: Record<string, () => tf.Tensor | tf.Tensor[]> = {
    fusedForward: () => fusedForward(t),
    stockForward: () => tf.tidy(() => stockForward(t.x, t.scale, t.offset)),
    fusedForwardBackward: () => fusedStep(t),
    stockForwardBackward: () => stockStep(t),
  };
  const samples = new Map<string, number[]>(Object.keys(paths).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(paths)) samples.get(name)?.push(time(reps, fn));
  }
  const result = {
    shape,
    reps,
    rounds,
    native: loaded.description,
    ms: Object.fromEntries([...samples].map(([k, v]) => [k, Number(median(v).toFixed(3))])),
    differences,
    numTensors: tf.memory().numTensors,
  };
  tf.dispose([t.x, t.dy, t.scale, t.offset]);
  if (argv.includes('--json')) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`batch norm in training ${JSON.stringify(shape)} on ${result.native}, median ms per call:`);
  for (const [k, v] of Object.entries(result.ms)) console.log(`  ${k.padEnd(22)} ${v}`);
  for (const d of differences) console.log(`  max |fused - stock| ${d.name}: ${d.maxAbsDiff.toExponential(2)}`);
}

await main();
