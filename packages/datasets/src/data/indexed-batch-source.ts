import { Rng, type Batch, type BatchRequest, type BatchSource } from '@engram/core';
import { rowLength, type LabelledSet } from './labelled-set.js';

/**
 * Maps one sample's features into `out` (same length). Used by domain-incremental scenarios
 * (permutations, rotations, user functions); must be a pure function of its input.
 */
export type SampleMap = (input: Float32Array, out: Float32Array) => void;

/** Options of an {@link IndexedBatchSource}. */
export interface IndexedSourceOptions {
  /** Task label attached to every batch (task-incremental scenarios). */
  readonly task?: number;
  /** Per-sample input map (domain-incremental scenarios). */
  readonly map?: SampleMap;
  /** Ignore `request.shuffle` and always yield the rows in the given order (online streams read once). */
  readonly ordered?: boolean;
}

/**
 * A finite {@link BatchSource} over the rows `indices` of a shared {@link LabelledSet}. Nothing is copied
 * until a batch is pulled, so an experience is a cheap descriptor; each batch is a fresh copy the
 * pipeline may keep. Shuffling is a pure function of `request.seed` and `request.epoch`.
 */
export class IndexedBatchSource implements BatchSource {
  readonly size: number;

  constructor(
    private readonly set: LabelledSet,
    readonly indices: Int32Array,
    private readonly options: IndexedSourceOptions = {},
  ) {
    this.size = indices.length;
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const n = this.size;
    const order =
      request.shuffle && !this.options.ordered
        ? new Rng(request.seed).derive(`epoch:${request.epoch}`).permutation(n)
        : undefined;
    const start = (request.startBatch ?? 0) * request.batchSize;
    for (let i = start; i < n; i += request.batchSize) {
      if (request.signal?.aborted) return;
      const end = Math.min(n, i + request.batchSize);
      yield this.rows(i, end, order);
    }
  }

  /** Every row as one batch (handy for tests and for fitting statistics). */
  all(): Batch {
    return this.rows(0, this.size, undefined);
  }

  private rows(from: number, to: number, order: Int32Array | undefined): Batch {
    const len = rowLength(this.set);
    const count = to - from;
    const x = new Float32Array(count * len);
    const y = new Int32Array(count);
    const map = this.options.map;
    for (let k = 0; k < count; k++) {
      const pos = order ? (order[from + k] as number) : from + k;
      const r = this.indices[pos] as number;
      const src = this.set.x.subarray(r * len, (r + 1) * len);
      if (map) map(src, x.subarray(k * len, (k + 1) * len));
      else x.set(src, k * len);
      y[k] = this.set.y[r] as number;
    }
    const task = this.options.task;
    return {
      x,
      y,
      sampleShape: this.set.sampleShape,
      ...(task !== undefined ? { task: new Int32Array(count).fill(task) } : {}),
    };
  }
}
