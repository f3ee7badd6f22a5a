import type { Rng } from '@engram/core';
import { indicesByClass, type LabelledSet } from '../data/labelled-set.js';

/** Rows of one set, split into a training and a test part. */
export interface TrainTestIndices {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * Stratified seeded split: in every class, `round(n * testFraction)` randomly chosen rows go to the test
 * part (at least one when the class has two or more rows and the fraction is positive). The two parts
 * never share a row; both are sorted by class, then by the random order.
 */
export function stratifiedSplit(
  set: LabelledSet,
  numClasses: number,
  testFraction: number,
  rng: Rng,
): TrainTestIndices {
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`testFraction must be in [0, 1), got ${testFraction}`);
  const byClass = indicesByClass(set.y, numClasses);
  const train: number[] = [];
  const test: number[] = [];
  byClass.forEach((rows, c) => {
    const perm = rng.derive(`class:${c}`).permutation(rows.length);
    let nTest = Math.round(rows.length * testFraction);
    if (testFraction > 0 && nTest === 0 && rows.length >= 2) nTest = 1;
    for (let k = 0; k < rows.length; k++) (k < nTest ? test : train).push(rows[perm[k] as number] as number);
  });
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** Keeps the rows of `indices` whose label is in `classes`, in order. */
export function filterByClasses(y: Int32Array, indices: Int32Array, classes: readonly number[]): Int32Array {
  const wanted = new Set(classes);
  return indices.filter((r) => wanted.has(y[r] as number));
}

/** `0..n-1`. */
export function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Cuts `indices` (after a seeded shuffle) into `parts` chunks whose sizes differ by at most one. */
export function iidChunks(indices: Int32Array, parts: number, rng: Rng): Int32Array[] {
  const perm = rng.permutation(indices.length);
  const shuffled = Int32Array.from(perm, (p) => indices[p] as number);
  const out: Int32Array[] = [];
  const base = Math.floor(indices.length / parts);
  const extra = indices.length % parts;
  let o = 0;
  for (let i = 0; i < parts; i++) {
    const n = base + (i < extra ? 1 : 0);
    out.push(shuffled.slice(o, o + n));
    o += n;
  }
  return out;
}

/**
 * Cuts the rows `0..total-1` into `parts` consecutive ranges of (nearly) equal size and returns, per
 * range, the rows of `indices` that fall in it, in row order: chunks in file order.
 */
export function orderedChunks(indices: Int32Array, total: number, parts: number): Int32Array[] {
  const sorted = Int32Array.from(indices).sort();
  const out: Int32Array[] = [];
  let o = 0;
  for (let i = 0; i < parts; i++) {
    const end = Math.round(((i + 1) * total) / parts);
    const start = o;
    while (o < sorted.length && (sorted[o] as number) < end) o++;
    out.push(sorted.slice(start, o));
  }
  return out;
}
