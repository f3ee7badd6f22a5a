import {
  BoundedQueue,
  type Batch,
  type BatchRequest,
  type BatchSource,
  type EventSink,
  type OverflowPolicy,
  type Rng,
} from '@engram/core';

/** One labelled sample as it arrives from a live feed. */
export interface Sample {
  readonly x: Float32Array;
  readonly y: number;
  readonly task?: number;
  /** Regression targets of the sample (a `targetField` feed); `y` is then 0. */
  readonly t?: Float32Array;
  /**
   * Position in the feed right after this sample (e.g. byte offset of the next line, a generator's
   * state): where a resumed feed restarts once this sample has been trained on. JSON-serialisable.
   */
  readonly cursor?: unknown;
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
 * (so memory stays bounded however fast they are), the trainer pulls batches. The first sample of a
 * batch is awaited; later ones are awaited too while the feed is behind (`caughtUp` false: a seeded
 * generator, a file backlog), so replayable feeds give full, reproducible batches; once the feed is
 * caught up (a socket, stdin, the end of a followed file) a batch holds only what has already arrived.
 * Samples discarded by the overflow policy are reported as `dropped` events (at most one per batch).
 *
 * Checkpoints: `cursor` is the position after the last sample handed to the trainer, never beyond, so
 * samples still buffered when a checkpoint is written are read again by a resumed feed.
 */
export class LiveBatchSource implements BatchSource {
  readonly endless = true;
  readonly queue: BoundedQueue<Sample>;
  private reported = 0;
  /** Samples handed to the trainer so far. */
  delivered = 0;
  /** `cursor` of the last sample handed to the trainer (where a resumed feed restarts). */
  cursor: unknown;
  private behind = false;
  private ended = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: LiveBatchOptions) {
    this.queue = new BoundedQueue<Sample>(options.capacity, options.policy, () => options.rng.next());
  }

  /**
   * Whether the feed has delivered everything available right now. True by default (live feeds: a
   * batch never waits beyond its first sample); a replayable feed sets it false while it still has
   * data to read, so batches wait to be full and are the same in every run.
   */
  get caughtUp(): boolean {
    return !this.behind;
  }

  set caughtUp(value: boolean) {
    this.behind = !value;
    if (value) this.wake();
  }

  /** Queues one sample; with policy `block` resolves only when there is room. */
  push(sample: Sample): Promise<void> {
    const pushed = this.queue.push(sample);
    this.wake();
    return pushed;
  }

  /** No more samples: the current pass ends once the buffer is drained (an error is rethrown to the trainer). */
  end(error?: Error): void {
    this.ended = true;
    this.queue.close(error);
    this.reportDrops();
    this.wake();
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const len = this.options.sampleShape.reduce((a, b) => a * b, 1);
    for (;;) {
      if (request.signal?.aborted) return;
      const first = await this.pullOrAbort(request.signal);
      if (first === undefined) return;
      const samples: Sample[] = [first];
      while (samples.length < request.batchSize) {
        if (this.queue.length === 0) {
          if (this.caughtUp || this.ended) break;
          await this.nextArrival(request.signal);
          if (request.signal?.aborted) return;
          continue;
        }
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
      // A regression feed's targets (every record carries the same number, checked at the door).
      const k = first.t?.length ?? 0;
      const targetValues = k > 0 ? new Float32Array(samples.length * k) : undefined;
      samples.forEach((s, i) => {
        x.set(s.x, i * len);
        y[i] = s.y;
        if (task) task[i] = s.task as number;
        if (targetValues && s.t) targetValues.set(s.t, i * k);
      });
      yield {
        x,
        y,
        sampleShape: this.options.sampleShape,
        ...(task ? { task } : {}),
        ...(targetValues ? { targetValues } : {}),
      };
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

  /** Resolves when a sample is pushed, the feed catches up or ends, or `signal` aborts. */
  private nextArrival(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiting.push(done);
    });
  }

  private wake(): void {
    for (const w of this.waiting.splice(0)) w();
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
