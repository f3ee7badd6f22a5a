import {
  componentMaker,
  EventBus,
  Rng,
  type Batch,
  type DataSource,
  type ServePromoteSettings,
} from '@engram/core/internal';
import type { FeedbackChannel } from '@engram/datasets';
import { lastValueFrom, toArray } from 'rxjs';
import { HeldOutCollector, memorySlice, type GateSamples, type HeldOutSlice } from './gate-samples.js';
import { instanceLength, type ServedData } from './served-data.js';
import type { StoredModel } from './stored-model.js';

/** The channel name `engram serve` gives its scoring-only /feedback. */
export const FOLLOW_FEEDBACK_CHANNEL = 'engram-serve';

/**
 * The first `size` samples of each experience's test set, preprocessed by `prepare` (the served
 * version's test-phase preprocessing), read batch by batch from a fresh data source of `pipeline`: the
 * samples the run's own gates held out (same order: 256 per batch, unshuffled). Experiences without a
 * test set give none. Called once by `engram serve --follow`; the source is closed after.
 */
export async function testSetSlices(
  pipeline: NonNullable<StoredModel['pipeline']>,
  size: number,
  prepare: (batch: Batch) => Batch,
): Promise<HeldOutSlice[]> {
  const def = pipeline.definition;
  const bus = new EventBus();
  const source = componentMaker(pipeline, new Rng(def.seed), bus)<DataSource>('dataset', def.data, '/data');
  try {
    const experiences = await lastValueFrom(source.experiences().pipe(toArray()));
    const collector = new HeldOutCollector(size);
    const slices: HeldOutSlice[] = [];
    for (const e of experiences) {
      if (!e.test || e.test.endless === true) continue;
      let slice: HeldOutSlice | undefined;
      for await (const batch of e.test.batches({ batchSize: 256, shuffle: false, epoch: 0, seed: 0 })) {
        slice = collector.add(e.index, prepare(batch)) ?? slice;
        if (collector.full(e.index)) break;
      }
      if (slice) slices.push(slice);
    }
    return slices;
  } finally {
    await source.close?.();
    bus.complete();
  }
}

/**
 * Every promotion gate for `engram serve --follow` (the checkpoint pipeline's `serve.promote`):
 * - `forgetting`: experiences — the first `heldOut` samples of each test set, read from the pipeline's
 *   data source at start; a live stream — a slice of `heldOut` rows of the replay memory held by the
 *   newer checkpoint (drawn with the pipeline's seed), replaced at each checkpoint it finds;
 * - `feedback`: the labels clients send to this server's own `POST /feedback` ({@link scoringChannel});
 * - `finite`: as in a run.
 * Called by the serve command, which owns the server's {@link GateSamples}.
 */
export class FollowGates {
  constructor(
    private readonly samples: GateSamples,
    private readonly promote: ServePromoteSettings,
    private readonly warn: (m: string) => void,
  ) {}

  /** Holds out what the first checkpoint offers (test sets, or its replay memory). */
  async start(first: StoredModel): Promise<void> {
    if (this.promote.maxForgetting === undefined) return;
    if (first.stream || !first.pipeline) {
      this.checkpoint(first);
      return;
    }
    try {
      const slices = await testSetSlices(first.pipeline, this.promote.heldOut, (b) => first.model.prepare(b));
      for (const s of slices) this.samples.holdOut(s);
      if (slices.length === 0)
        this.warn('serve.promote.maxForgetting: the data has no test sets, so no held-out slice is scored');
    } catch (e) {
      this.warn(
        `serve.promote.maxForgetting: cannot read the test sets (${(e as Error).message}); no held-out slice is scored`,
      );
    }
  }

  /** A newer checkpoint is about to be judged: a live stream's gates score a slice of its replay memory. */
  checkpoint(stored: StoredModel): void {
    if (this.promote.maxForgetting === undefined || !stored.memory) return;
    const seed = stored.pipeline?.definition.seed ?? 0;
    this.samples.holdOut(memorySlice(stored.memory, this.promote.heldOut, seed, stored.model.info.experience));
  }
}

/**
 * The feedback channel of `engram serve` (read-only serving with `serve.promote.feedback`): a label
 * sent to `POST /feedback` scores the served (and shadow) prediction and joins the feedback gate's
 * records, and goes nowhere else — nothing trains in this process. Made per request from the served data.
 */
export function scoringChannel(data: ServedData): FeedbackChannel {
  return {
    name: FOLLOW_FEEDBACK_CHANNEL,
    length: instanceLength(data),
    numClasses: data.numClasses,
    ...(data.classNames ? { labels: data.classNames } : {}),
    push: async () => undefined,
    depth: () => 0,
    dropped: () => 0,
  };
}
