import { selectRows, type Batch } from './batch.js';
import { Rng } from '../random/rng.js';

/** What the trainer asks of a {@link BatchSource} each time it starts a pass. */
export interface BatchRequest {
  /** Samples per batch. Live sources may deliver fewer (whatever has arrived). */
  readonly batchSize: number;
  /** Shuffle the order of samples (finite sources only). */
  readonly shuffle: boolean;
  /** Epoch number, 0-based; finite sources derive their shuffle order from `seed` and `epoch`. */
  readonly epoch: number;
  /** Seed of this pass, derived from the pipeline seed and the experience. */
  readonly seed: number;
  /** Skip this many batches first (used when resuming inside a pass). */
  readonly startBatch?: number;
  /** Aborts a pass over an endless source (the engine stops pulling and signals this). */
  readonly signal?: AbortSignal;
}

/**
 * A pull-based sequence of batches. The trainer pulls the next batch only after it has finished the
 * previous one, so a fast source never makes memory grow: a live source must buffer at most a bounded
 * number of records (see `BoundedQueue`).
 */
export interface BatchSource {
  /** Number of samples, when finite and known. */
  readonly size?: number;
  /** True for live feeds that never end by themselves. */
  readonly endless?: boolean;
  /** Starts one pass over the data. Each call yields a fresh iterator. */
  batches(request: BatchRequest): AsyncIterable<Batch>;
}

/** A finite batch source over batches held in memory; handy for tests and small scenarios. */
export class ArrayBatchSource implements BatchSource {
  readonly size: number;
  constructor(private readonly data: Batch) {
    this.size = data.y.length;
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const n = this.size;
    const order = request.shuffle
      ? new Rng(request.seed).derive(`epoch:${request.epoch}`).permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    const start = (request.startBatch ?? 0) * request.batchSize;
    for (let i = start; i < n; i += request.batchSize) {
      yield selectRows(this.data, order.subarray(i, Math.min(n, i + request.batchSize)));
    }
  }
}
