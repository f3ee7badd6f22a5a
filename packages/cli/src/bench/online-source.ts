import { of, type Observable } from 'rxjs';
import {
  Rng,
  Type,
  type Batch,
  type BatchRequest,
  type BatchSource,
  type DataSource,
  type Experience,
  type PluginManifest,
  type StreamInfo,
} from '@engram/core';
import { componentPlugin } from './bench.plugin.js';

/** Options of the `bench-online` dataset. */
const OnlineOptions = Type.Object(
  {
    batch: Type.Integer({ minimum: 1 }),
    steps: Type.Integer({ minimum: 1, description: 'Batches delivered before the stream ends.' }),
  },
  { additionalProperties: false },
);

/**
 * Receives the time of every pull the engine makes from the online stream. The engine pulls the next
 * batch only once it has finished the previous one (evaluation, training, events, checkpoint check),
 * so the gap between two pulls is one whole prequential step as a live source sees it.
 */
export class PullClock {
  /** `performance.now()` at each pull, in order; `times[k + 1] - times[k]` is step k. */
  readonly times: number[] = [];

  /** Durations (ms) of the steps after the first `skip`. */
  steps(skip: number): number[] {
    const out: number[] = [];
    for (let k = skip; k + 1 < this.times.length; k++)
      out.push((this.times[k + 1] as number) - (this.times[k] as number));
    return out;
  }
}

/** Eight random host batches of `n` 28×28 images in rotation, the same data the bare step and PyTorch use. */
export function hostBatches(n: number, seed: number): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: 8 }, () => {
    const x = new Float32Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = rng.next();
    return { x, y: Int32Array.from({ length: n }, () => rng.int(10)), sampleShape: [28, 28, 1] };
  });
}

/** A live-like endless source: `steps` batches of `batch` random images, then the stream ends. */
class TimedStream implements DataSource, BatchSource {
  readonly endless = true;
  constructor(
    private readonly options: { batch: number; steps: number },
    private readonly seed: number,
    private readonly clock: PullClock,
  ) {}

  async describe(): Promise<StreamInfo> {
    return { inputShape: [28, 28, 1], numClasses: 10, experiences: 'endless', scenario: 'stream' };
  }

  experiences(): Observable<Experience> {
    return of({ index: 0, classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], train: this });
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const data = hostBatches(this.options.batch, this.seed);
    for (let k = 0; k < this.options.steps && !request.signal?.aborted; k++) {
      this.clock.times.push(performance.now());
      yield data[k % data.length] as Batch;
    }
    this.clock.times.push(performance.now()); // the pull after the last step
  }
}

/** A plugin whose `bench-online` dataset reports its pulls to `clock` (one plugin per measured run). */
export function onlineBenchPlugin(clock: PullClock): PluginManifest {
  return componentPlugin('engram-bench-online', {
    role: 'dataset',
    kind: 'bench-online',
    description: 'Timed endless stream of random images for the online latency benchmark.',
    options: OnlineOptions,
    create: (o, s) => new TimedStream(o as { batch: number; steps: number }, s.seed, clock),
  });
}
