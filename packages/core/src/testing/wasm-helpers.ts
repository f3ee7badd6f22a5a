import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '../backend/wasm-gradients.js';

/** Result of running one computation on two backends; produced by {@link compareWithCpu}. */
export interface BackendDiff {
  /** Largest |wasm - reference| over every output element. */
  maxAbs: number;
  /** Largest |reference| over every output element (for a relative reading). */
  scale: number;
}

let ready: Promise<void> | null = null;

/**
 * Activates wasm once and installs the rewrites. Called by the wasm test files before
 * their first test (tests share one process when run from a single file).
 */
export function setUpWasm(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('wasm backend failed to initialise');
    registerWasmGradients();
  })();
  return ready;
}

/** Standard-normal tensor from a fixed seed (identical values on every backend); used to build test inputs. */
export function rnd(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

async function evaluate(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => fn().map((t) => Float32Array.from(t.dataSync())));
}

/**
 * Runs `fn` on wasm and `reference` (default: the same `fn`) on cpu and compares
 * every output element. Called by the wasm rewrite tests; leaves wasm active.
 */
export async function compareWithCpu(fn: () => tf.Tensor[], reference: () => tf.Tensor[] = fn): Promise<BackendDiff> {
  const ref = await evaluate('cpu', reference);
  const got = await evaluate('wasm', fn);
  if (ref.length !== got.length) throw new Error(`output count ${got.length} != ${ref.length}`);
  let maxAbs = 0;
  let scale = 0;
  ref.forEach((r, i) => {
    const g = got[i];
    if (g === undefined || g.length !== r.length) throw new Error(`output ${i}: size ${g?.length} != ${r.length}`);
    r.forEach((v, k) => {
      maxAbs = Math.max(maxAbs, Math.abs(v - (g[k] ?? Number.NaN)));
      scale = Math.max(scale, Math.abs(v));
    });
  });
  return { maxAbs, scale };
}

/**
 * Asserts a {@link BackendDiff} is within float32 rounding: `relTol` relative to the
 * largest reference magnitude (at least 1). Returns a one-line description for logs.
 */
export function assertClose(diff: BackendDiff, label: string, relTol = 1e-5): string {
  const bound = relTol * Math.max(1, diff.scale);
  const line = `${label}: max abs diff ${diff.maxAbs.toExponential(2)} (scale ${diff.scale.toFixed(1)})`;
  if (!(diff.maxAbs <= bound)) throw new Error(`${line} exceeds ${bound.toExponential(2)}`);
  return line;
}

/**
 * A differentiable scalar from `y` with non-uniform upstream gradients (a fixed random
 * projection), so every gradient path is exercised. Called inside gradient closures.
 */
export function project(y: tf.Tensor, seed = 99): tf.Scalar {
  return tf.sum(tf.mul(y, rnd(y.shape, seed)));
}
