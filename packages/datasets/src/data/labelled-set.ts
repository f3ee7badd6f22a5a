/**
 * A finite labelled data set held in memory: the common currency of every finite source (mnist,
 * fashion-mnist, idx, csv, jsonl, synthetic) and the input of every scenario builder.
 */
export interface LabelledSet {
  /** Features, row-major: `y.length * prod(sampleShape)` values. */
  readonly x: Float32Array;
  /** Class index of every sample. */
  readonly y: Int32Array;
  /** Shape of one sample, e.g. `[28, 28, 1]`. */
  readonly sampleShape: readonly number[];
  /**
   * Set by sources that read samples from disk on demand (image folders): `x` is then empty and batches
   * ask the loader for their rows, a few batches ahead.
   */
  readonly loader?: RowLoader;
  /** Task label of every sample, when the data carries one (a manifest's `task` column). */
  readonly task?: Int32Array;
  /**
   * Regression targets, row-major `y.length * k` (k targets per sample), when the set is the data of a
   * `task: "regression"` run; `y` is then all zeros.
   */
  readonly targets?: Float32Array;
  /** Group (domain) index of every sample, when the source names a group column/field (see `LabelledData.groupNames`). */
  readonly groups?: Int32Array;
}

/** Reads the features of some rows of a {@link LabelledSet} on demand (e.g. decodes image files). */
export interface RowLoader {
  /** How many batches a batch source keeps being loaded ahead of the one it yields (at least 1). */
  readonly prefetch: number;
  /**
   * The features of `rows` (indices into the set's `y`), in order: `x` holds `rows.length` samples and
   * `ok[i]` is 0 where row `i` could not be read (its values are then meaningless, the row is dropped).
   * Never rejects for one bad row; may reject when the loader is closed.
   */
  load(rows: Int32Array): Promise<{ x: Float32Array; ok: Uint8Array }>;
  /** Milliseconds consumers spent waiting for `load` results (the trainer's data wait). */
  waited(ms: number): void;
}

/** What a finite source hands to a scenario builder. */
export interface LabelledData {
  /** Training pool (also the pool test sets are split from when `test` is absent). */
  readonly train: LabelledSet;
  /** Official test set, when the source has one (e.g. Fashion-MNIST's t10k files). */
  readonly test?: LabelledSet;
  /** Size of a full classifier head: every label is below it. */
  readonly numClasses: number;
  /** Optional class names, index = class. */
  readonly classNames?: readonly string[];
  /**
   * True when the sets carry regression `targets` instead of classes: `numClasses` then counts the
   * targets per sample, and only the scenarios that do not cut by class apply.
   */
  readonly regression?: boolean;
  /** The groups' names (the values of the group column/field), index = group, in order of first appearance. */
  readonly groupNames?: readonly string[];
}

/** Number of values per sample of `set`. */
export function rowLength(set: LabelledSet): number {
  return set.sampleShape.reduce((a, b) => a * b, 1);
}

/** Indices of the samples of each class: `result[c]` lists the rows with label `c`, in order. */
export function indicesByClass(y: Int32Array, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (const label of y) counts[label] = (counts[label] ?? 0) + 1;
  const out = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < y.length; i++) {
    const c = y[i] as number;
    const slot = fill[c] as number;
    (out[c] as Int32Array)[slot] = i;
    fill[c] = slot + 1;
  }
  return out;
}

/** Classes that occur at least once in `y`, ascending. */
export function presentClasses(y: Int32Array, numClasses: number): number[] {
  const seen = new Uint8Array(numClasses);
  for (const label of y) seen[label] = 1;
  const out: number[] = [];
  seen.forEach((s, c) => {
    if (s) out.push(c);
  });
  return out;
}

/** Checks shapes and label range; throws a message naming `what` on the first problem. */
export function checkLabelledSet(set: LabelledSet, numClasses: number, what: string): void {
  const len = rowLength(set);
  if (!set.loader && set.x.length !== set.y.length * len) {
    throw new Error(
      `${what}: ${set.x.length} feature values do not fit ${set.y.length} samples of shape [${set.sampleShape.join(', ')}]`,
    );
  }
  if (set.targets) {
    if (set.targets.length !== set.y.length * numClasses)
      throw new Error(
        `${what}: ${set.targets.length} target values do not fit ${set.y.length} samples of ${numClasses}`,
      );
    const bad = set.targets.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(
        `${what}: sample ${Math.floor(bad / numClasses)} has a non-finite target (${set.targets[bad]}) in target ${bad % numClasses}`,
      );
    return;
  }
  for (let i = 0; i < set.y.length; i++) {
    const c = set.y[i] as number;
    if (!(c >= 0 && c < numClasses))
      throw new Error(`${what}: sample ${i} has label ${c}, outside 0..${numClasses - 1}`);
  }
}
