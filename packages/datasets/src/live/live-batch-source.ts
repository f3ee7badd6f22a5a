import { BoundedQueue, type Batch, type BatchRequest, type BatchSource, type EventSink, type OverflowPolicy, type Rng } from '@engram/core';

/** One labelled sample as it arrives from a live feed. */
export interface Sample {
  readonly x: Float32Array;
  readonly y: number;
  readonly task?: number;
  /** Position in the feed after this sample (e.g. byte offset of the next line), for checkpoints. */
  readonly cursor?: number;
}

/** Options of a {@link LiveBatchSource}. */
export interface LiveBatchOptions {
  /** Bounded buffer size, in samples. */
  readonly capacity: number;
  /** What a full buffer does with a new sample. */
  readonly policy: OverflowPolicy;
  /** Shape of one sample; every pushed sample must have `prod(sampleShape)` values. */
  readonly sampleShape: readonly number[];
  /** Name used in `dropped` events (the component kind). */
  readonly name: string;
  readonly events: EventSink;
  /** For the `sample` policy's reservoir draws. */
  readonly rng: Rng;
}

/**
 * The endless {@link BatchSource} of a live feed: producers `push` samples into a {@link BoundedQueue}
 * (so memory stays bounded however fast they are), the trainer pulls batches. A batch holds what has
 * arrived, up to `batchSize`: the first sample is awaited, later ones are taken only if already queued.
 * Samples discarded by the overflow policy are reported as `dropped` events (at most one per batch).
 */
export class LiveBatchSource implements BatchSource {
  readonly endless = true;
  readonly queue: BoundedQueue<Sample>;
  private reported = 0;
  /** Samples handed to the trainer so far. */
  delivered = 0;
  /** `cursor` of the last sample handed to the trainer (where a resumed feed restarts). */
  cursor: number | undefined;

  constructor(private readonly options: LiveBatchOptions) {
    this.queue = new BoundedQueue<Sample>(options.capacity, options.policy, () => options.rng.next());
  }

  /** Queues one sample; with policy `block` resolves only when there is room. */
  push(sample: Sample): Promise<void> {
    return this.queue.push(sample);
  }

  /** No more samples: the current pass ends once the buffer is drained (an error is rethrown to the trainer). */
  end(error?: Error): void {
    this.queue.close(error);
    this.reportDrops();
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const len = this.options.sampleShape.reduce((a, b) => a * b, 1);
    for (;;) {
      if (request.signal?.aborted) return;
      const first = await this.pullOrAbort(request.signal);
      if (first === undefined) return;
      const samples: Sample[] = [first];
      while (samples.length < request.batchSize && this.queue.length > 0) {
        const s = await this.queue.pull();
        if (s === undefined) break;
        samples.push(s);
      }
      this.reportDrops();
      this.delivered += samples.length;
      const last = samples[samples.length - 1];
      if (last?.cursor !== undefined) this.cursor = last.cursor;
      const x = new Float32Array(samples.length * len);
      const y = new Int32Array(samples.length);
      const withTask = samples.every((s) => s.task !== undefined);
      const task = withTask ? new Int32Array(samples.length) : undefined;
      samples.forEach((s, i) => {
        x.set(s.x, i * len);
        y[i] = s.y;
        if (task) task[i] = s.task as number;
      });
      yield { x, y, sampleShape: this.options.sampleShape, ...(task ? { task } : {}) };
    }
  }

  /** Emits one `dropped` event for the samples discarded since the last report. */
  reportDrops(): void {
    const total = this.queue.dropped;
    if (total > this.reported) {
      this.options.events.emit({ type: 'dropped', source: this.options.name, count: total - this.reported, total });
      this.reported = total;
    }
  }

  private pullOrAbort(signal: AbortSignal | undefined): Promise<Sample | undefined> {
    if (!signal) return this.queue.pull();
    return new Promise<Sample | undefined>((resolve, reject) => {
      const onAbort = (): void => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.pull().then(
        (s) => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}
