import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { load, type NativeLoadResult } from '../index.js';
import { withStockKernels } from '../kernels/kernel-registry.js';

/** Activates the wasm backend and the native kernels (test and bench helper). */
export async function useWasmNative(): Promise<NativeLoadResult> {
  if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') throw new Error('wasm backend unavailable');
  await tf.ready();
  return load();
}

/** Runs `fn` on backend `name` and returns every output's values (tensors are disposed). */
export async function valuesOn(name: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  await tf.setBackend(previous);
  return values;
}

/** Largest absolute difference between two equally long arrays (Infinity when lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

/** Deterministic pseudo-random values in [-1, 1) (no tfjs RNG, so every backend sees the same data). */
export function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Set when ENGRAM_NATIVE=0: the addon is not built then, so the native suites are skipped. */
export const skipNative: string | false = process.env['ENGRAM_NATIVE'] === '0' ? 'ENGRAM_NATIVE=0' : false;

/** A tensor of {@link seededValues} (the same values on every backend). */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);
}

/**
 * Runs `fn` on the cpu backend and on wasm (with whatever kernels are loaded) and asserts that output
 * `i` agrees within `relativeTolerance(i) · max(1, max |cpu value|)`; a tolerance of 0 demands the same
 * values exactly (NaN where the cpu backend gives NaN).
 */
export async function expectSameOnCpu(
  label: string,
  fn: () => tf.Tensor[],
  relativeTolerance: (output: number) => number,
): Promise<void> {
  const cpu = await valuesOn('cpu', fn);
  const wasm = await valuesOn('wasm', fn);
  assert.equal(wasm.length, cpu.length, label);
  cpu.forEach((c, i) => {
    const w = wasm[i] ?? new Float32Array();
    const tolerance = relativeTolerance(i);
    if (tolerance === 0) {
      assert.equal(w.length, c.length, `${label} output ${i} length`);
      c.forEach((v, j) =>
        assert.ok(Object.is(v, w[j]) || v === w[j], `${label} output ${i}[${j}]: cpu ${v}, wasm ${w[j]}`),
      );
      return;
    }
    const scale = Math.max(1, ...Array.from(c, Math.abs));
    assert.ok(maxAbsDiff(c, w) <= tolerance * scale, `${label} output ${i}`);
  });
}

/**
 * Runs `fn` with the native kernels and again with the stock wasm kernels `names` (withStockKernels)
 * and asserts every output agrees: bit for bit when `tolerance` is 0 (NaN where stock gives NaN),
 * else within `tolerance · max(1, max |stock value|)`. Returns the largest absolute difference seen.
 */
export function expectSameAsStock(
  label: string,
  names: readonly string[],
  fn: () => tf.Tensor | tf.Tensor[],
  tolerance = 0,
): number {
  const run = (): Float32Array[] => {
    const outs = tf.tidy(fn);
    const list = Array.isArray(outs) ? outs : [outs];
    const values = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
    return values;
  };
  const native = run();
  const stock = withStockKernels(names, run);
  assert.equal(native.length, stock.length, label);
  let worst = 0;
  stock.forEach((s, i) => {
    const n = native[i] ?? new Float32Array();
    assert.equal(n.length, s.length, `${label} output ${i} length`);
    const diff = maxAbsDiff(s, n);
    worst = Math.max(worst, diff);
    if (tolerance === 0) {
      const j = s.findIndex((v, k) => !(v === n[k] || (Number.isNaN(v) && Number.isNaN(n[k]))));
      assert.equal(j, -1, `${label} output ${i}[${j}]: stock ${s[j]}, native ${n[j]}`);
      return;
    }
    const scale = s.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    assert.ok(diff <= tolerance * scale, `${label} output ${i}: max |Δ| ${diff}`);
  });
  return worst;
}
