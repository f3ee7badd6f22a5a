import { Rng, type Batch, type BatchRequest, type BatchSource } from '@engram/core';
import { rowLength, type LabelledSet, type RowLoader } from './labelled-set.js';

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
    if (this.set.loader) {
      yield* this.loadedBatches(this.set.loader, request, start, order);
      return;
    }
    for (let i = start; i < n; i += request.batchSize) {
      if (request.signal?.aborted) return;
      const end = Math.min(n, i + request.batchSize);
      yield this.rows(i, end, order);
    }
  }

  /** Every row as one batch (handy for tests and for fitting statistics; in-memory sets only). */
  all(): Batch {
    if (this.set.loader) throw new Error('all(): this data set is read from disk batch by batch');
    return this.rows(0, this.size, undefined);
  }

  /**
   * Batches of a set read on demand: up to `loader.prefetch` batches are being loaded while the consumer
   * holds the current one, so decoding overlaps training. Rows the loader could not read are dropped; a
   * batch left with no rows is skipped. Memory is bounded by the prefetch, not the set.
   */
  private async *loadedBatches(
    loader: RowLoader,
    request: BatchRequest,
    start: number,
    order: Int32Array | undefined,
  ): AsyncIterable<Batch> {
    const n = this.size;
    const pending: Promise<Batch>[] = [];
    let next = start;
    const launch = (): void => {
      while (pending.length < Math.max(1, loader.prefetch) && next < n) {
        const from = next;
        next = Math.min(n, next + request.batchSize);
        const p = this.loadRows(loader, from, next, order);
        p.catch(() => undefined); // a batch abandoned by its consumer must not raise unhandled
        pending.push(p);
      }
    };
    launch();
    while (pending.length > 0) {
      if (request.signal?.aborted) return;
      const t0 = performance.now();
      const batch = await (pending.shift() as Promise<Batch>);
      loader.waited(performance.now() - t0);
      launch();
      if (batch.y.length > 0) yield batch;
    }
  }

  private async loadRows(loader: RowLoader, from: number, to: number, order: Int32Array | undefined): Promise<Batch> {
    const picked = new Int32Array(to - from);
    for (let k = 0; k < picked.length; k++)
      picked[k] = this.indices[order ? (order[from + k] as number) : from + k] as number;
    const { x: raw, ok } = await loader.load(picked);
    const len = rowLength(this.set);
    let kept = 0;
    for (const v of ok) kept += v;
    const x = kept === picked.length && !this.options.map ? raw : new Float32Array(kept * len);
    const y = new Int32Array(kept);
    const taskOf = this.set.task;
    const task = this.options.task !== undefined || taskOf ? new Int32Array(kept) : undefined;
    let j = 0;
    for (let k = 0; k < picked.length; k++) {
      if (!ok[k]) continue;
      const r = picked[k] as number;
      const src = raw.subarray(k * len, (k + 1) * len);
      if (this.options.map) this.options.map(src, x.subarray(j * len, (j + 1) * len));
      else if (x !== raw) x.set(src, j * len);
      y[j] = this.set.y[r] as number;
      if (task) task[j] = this.options.task ?? (taskOf?.[r] as number);
      j++;
    }
    const rows = picked.filter((_, k) => ok[k] === 1);
    return {
      x,
      y,
      sampleShape: this.set.sampleShape,
      ...(task ? { task } : {}),
      ...(this.set.targets ? { targetValues: this.targetsOf(rows) } : {}),
    };
  }

  /** The regression targets of `rows` (indices into the set), row-major `[rows.length, k]`. */
  private targetsOf(rows: Int32Array): Float32Array {
    const all = this.set.targets as Float32Array;
    const k = this.set.y.length > 0 ? all.length / this.set.y.length : 0;
    const out = new Float32Array(rows.length * k);
    rows.forEach((r, i) => out.set(all.subarray(r * k, (r + 1) * k), i * k));
    return out;
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
    const taskOf = this.set.task;
    const targets = this.set.targets;
    return {
      x,
      y,
      sampleShape: this.set.sampleShape,
      ...(targets
        ? {
            targetValues: this.targetsOf(
              Int32Array.from(y, (_, k) => this.indices[order ? (order[from + k] as number) : from + k] as number),
            ),
          }
        : {}),
      ...(task !== undefined
        ? { task: new Int32Array(count).fill(task) }
        : taskOf
          ? {
              task: Int32Array.from(
                y,
                (_, k) => taskOf[this.indices[order ? (order[from + k] as number) : from + k] as number] as number,
              ),
            }
          : {}),
    };
  }
}
