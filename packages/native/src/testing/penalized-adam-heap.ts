import { seededValues } from './backend-harness.js';
import type { NativeAddon } from '../addon/native-addon.js';

/** Floats of the test variable: with one penalty term, 4 × 300,000 ≥ 512k, so its update is split over the chunk pool. */
export const HEAP_FLOATS = 300_000;
const STEPS = 3;
const ADAM = [0.9, 0.1, 0.999, 0.001] as const;

/** A wasm-heap stand-in holding p, m, v, g, θ*, F ({@link HEAP_FLOATS} floats each, in that order). */
export interface AdamHeap {
  readonly buffer: ArrayBuffer;
  readonly floats: Float32Array;
}

/** A heap filled with seeded values (F ≥ 0, m = v = 0): the same bits on every call. */
export function makeAdamHeap(): AdamHeap {
  const n = HEAP_FLOATS;
  const buffer = new ArrayBuffer(6 * n * 4);
  const floats = new Float32Array(buffer);
  floats.set(seededValues(n, 1), 0);
  floats.set(seededValues(n, 2), 3 * n);
  floats.set(seededValues(n, 3), 4 * n);
  floats.set(seededValues(n, 4).map(Math.abs), 5 * n);
  return { buffer, floats };
}

/** Three EWC-penalised Adam steps over [start, start + length) of every array, one addon call per step; returns the penalty values. */
export function penalizedAdamSteps(addon: NativeAddon, heap: AdamHeap, start: number, length: number): number[] {
  const at = (array: number): number => (array * HEAP_FLOATS + start) * 4;
  const values: number[] = [];
  for (let s = 1; s <= STEPS; s++) {
    const terms = new Float64Array([at(4), at(5), 50]);
    values.push(
      addon.adam(
        heap.buffer,
        at(0),
        at(1),
        at(2),
        at(3),
        length,
        ...ADAM,
        1 - ADAM[0] ** s,
        1 - ADAM[2] ** s,
        1e-7,
        -1e-3,
        terms,
      ),
    );
  }
  return values;
}

/** p, m and v of the heap, one base64 string each (compared bit for bit). */
export function adamStateBytes(heap: AdamHeap): string[] {
  return [0, 1, 2].map((a) => Buffer.from(heap.buffer, a * HEAP_FLOATS * 4, HEAP_FLOATS * 4).toString('base64'));
}
