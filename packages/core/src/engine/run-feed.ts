import type { Experience } from '../data/experience.js';
import type { EventSink } from '../events/event-sink.js';
import type { TrainingSettings } from '../pipeline/run-settings.schema.js';
import type {
  BatchItem,
  ExperienceEndItem,
  ExperienceStartItem,
  RunEndItem,
  RunItem,
  TestItem,
} from '../plugin-api/run-item.js';
import type { RunControl } from '../run/run-control.js';
import type { FeedPosition } from './run-start.js';
import type { RunState } from '../run/run-state.js';

/**
 * How often (ms), by default, the feed lets the event loop run (signal handlers, I/O) between batches.
 * Each turn of the event loop costs the wasm/OpenBLAS training loop more than the turn itself takes
 * (measured: a turn every 25 ms cut MLP throughput by up to ~10 %, also in a bare tfjs loop); four a
 * second still see a signal within a quarter second and a batch. `RunOptions.yieldEveryMs` changes it
 * (a process answering requests on the training thread passes 0: a turn after every batch).
 */
const BREATH_MS = 250;

/** What the feed reads and drives. */
export interface FeedContext {
  readonly state: RunState;
  readonly control: RunControl;
  readonly events: EventSink;
  readonly training: TrainingSettings;
  /** Where the items begin (the run's start decided it: new, resumed, continued). */
  readonly origin: FeedPosition;
  /** Longest time (ms) between two event-loop turns; default {@link BREATH_MS}. */
  readonly yieldEveryMs?: number;
}

/**
 * The items of a run, pulled one at a time (see {@link PulledFeed}). The feed owns the run's position:
 * it sets the cursor's experience and epoch (the train stage counts batches, steps and samples),
 * emits `experience-start`, and takes a stop only at a batch boundary — between two batches, between
 * epochs or between experiences, never between a stream batch's test and its training — so the
 * checkpoint the stop writes is a position a resume continues from exactly.
 */
export class RunFeed {
  private seq = 0;
  private lastBreath = performance.now();
  /** Why the run stopped early, once it has. */
  stopped: string | undefined;

  constructor(private readonly f: FeedContext) {}

  /**
   * Training on a synchronous backend never leaves the microtask queue, so a signal handler (a
   * macrotask) would wait for the next checkpoint's I/O. At most every {@link BREATH_MS} ms the feed
   * yields one event-loop turn before a stop check, so SIGINT/SIGTERM are seen at the next batch.
   */
  private due(): boolean {
    return performance.now() - this.lastBreath >= (this.f.yieldEveryMs ?? BREATH_MS);
  }

  private async breathe(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = performance.now();
  }

  private stop(reason: string): RunEndItem {
    this.stopped = reason;
    return { kind: 'run-end', seq: this.seq++, stopped: reason };
  }

  private startExperience(experience: Experience, reentered: boolean): ExperienceStartItem {
    const { state, events } = this.f;
    for (const c of experience.classes) state.seenClasses.add(c);
    state.position.enterExperience(experience.index);
    // A re-entered experience already emitted its start before the checkpoint.
    if (!reentered)
      events.emit({
        type: 'experience-start',
        experience: experience.index,
        classes: [...experience.classes],
        ...(experience.task !== undefined ? { task: experience.task } : {}),
        ...(experience.train.size !== undefined ? { trainSize: experience.train.size } : {}),
        step: state.cursor.step,
      });
    return { kind: 'experience-start', seq: this.seq++, experience, resumed: reentered, data: experience.train };
  }

  private end(experience: Experience, stream: boolean, boundary: boolean): ExperienceEndItem {
    return { kind: 'experience-end', seq: this.seq++, experience, stream, boundary };
  }

  private runStart(): RunItem {
    const { resumed, continued } = this.f.origin;
    return { kind: 'run-start', seq: this.seq++, resumed, continued };
  }

  /** A finite run: every experience (from the position on), its epochs and their batches. */
  async *experiences(all: readonly Experience[]): AsyncGenerator<RunItem, void, undefined> {
    const { state, control, training, origin } = this.f;
    const cursor = state.cursor;
    const { batchSize, shuffle, iterations } = training;
    origin.begin(state.position);
    yield this.runStart();
    for (const exp of all) {
      if (exp.evaluateOnly === true) continue; // its test set only (a scenario's `only`, an earlier run's)
      if (origin.finished(exp.index)) continue; // finished before the checkpoint
      await this.breathe();
      if (control.stopReason) {
        yield this.stop(control.stopReason);
        return;
      }
      const reentered = origin.reenters(exp.index, false);
      if (!reentered) state.position.rewind();
      const start = this.startExperience(exp, reentered);
      yield start;
      if (reentered) await origin.afterReentry();
      const data = start.data;
      const perEpoch = data.size !== undefined ? Math.ceil(data.size / batchSize) : undefined;
      if (iterations !== undefined && perEpoch === undefined)
        throw new Error('training.iterations needs training data of known size; use training.epochs');
      // A step budget (training.iterations) is whole epochs and a last one cut short; the steps done
      // follow from the cursor (epoch × batches per epoch + batch), so a resumed run stops at the same step.
      const epochs =
        iterations !== undefined && perEpoch !== undefined
          ? perEpoch > 0
            ? Math.ceil(iterations / perEpoch)
            : 1
          : (training.epochs ?? 1);
      const signal = control.abortSignal;
      for (let epoch = cursor.epoch; epoch < epochs; epoch++) {
        if (state.stopExperience) break; // early stopping (training.validation.earlyStopping)
        state.position.inEpoch(epoch);
        // Batches of this pass: all of them, or what is left of the step budget.
        const batches =
          iterations !== undefined && perEpoch !== undefined
            ? Math.min(perEpoch, iterations - epoch * perEpoch)
            : perEpoch;
        // A pass re-entered mid-epoch (cursor.batch > 0) keeps its totals and its epoch-start.
        if (cursor.batch === 0) {
          if (control.stopReason) {
            yield this.stop(control.stopReason);
            return;
          }
          yield { kind: 'epoch-start', seq: this.seq++, experience: exp, epoch, epochs };
        }
        const seed = state.rng.derive(`data:${exp.index}`).nextUint32();
        const batchesOfPass = data.batches({
          batchSize,
          shuffle,
          epoch,
          seed,
          startBatch: cursor.batch,
          ...(signal ? { signal } : {}),
        });
        const pass = batchesOfPass[Symbol.asyncIterator]();
        try {
          for (;;) {
            if (iterations !== undefined && batches !== undefined && cursor.batch >= batches) break;
            const next = await pass.next();
            if (next.done) break;
            const item: BatchItem = {
              kind: 'batch',
              seq: this.seq++,
              experience: exp,
              epoch,
              batches,
              batch: next.value,
            };
            yield item;
            if (this.due()) await this.breathe();
            if (control.stopReason) {
              yield this.stop(control.stopReason);
              return;
            }
          }
        } finally {
          await pass.return?.();
        }
        // A pass a stop cut short is not an epoch's end.
        if (control.stopReason) {
          yield this.stop(control.stopReason);
          return;
        }
        yield { kind: 'epoch-end', seq: this.seq++, experience: exp, epoch };
        state.position.endEpoch(epoch);
      }
      if (control.stopReason) {
        yield this.stop(control.stopReason);
        return;
      }
      state.position.endExperience();
      yield this.end(exp, false, false);
    }
    yield { kind: 'run-end', seq: this.seq++ };
  }

  /**
   * A stream run (test-then-train): the current experience, then for each pulled batch a `test` item
   * and a `batch` item; a boundary the evaluate stage asked for in between ends the experience and
   * starts the next before the batch is trained on. Ends with the source, at `training.maxSamples`,
   * or at a stop.
   *
   * `current` is the experience the cursor is in (a resumed run's source was restored to the first
   * sample not yet trained on). A run whose checkpoint was written once `maxSamples` had been reached
   * pulls nothing more and only ends its experience.
   */
  async *stream(first: Experience, current: Experience): AsyncGenerator<RunItem, void, undefined> {
    const { state, control, training, origin } = this.f;
    const cursor = state.cursor;
    const { batchSize, maxSamples } = training;
    yield this.runStart();
    if (origin.ended) {
      yield { kind: 'run-end', seq: this.seq++ };
      return;
    }
    const reentered = origin.reenters(current.index, true);
    const start = this.startExperience(current, reentered);
    yield start;
    if (reentered) await origin.afterReentry();
    let experience = current;
    if (maxSamples === undefined || cursor.samples < maxSamples) {
      const own = new AbortController();
      const signal = control.abortSignal ? AbortSignal.any([control.abortSignal, own.signal]) : own.signal;
      const seed = state.rng.derive('data:stream').nextUint32();
      const streamed = start.data.batches({
        batchSize,
        shuffle: false,
        epoch: 0,
        seed,
        startBatch: cursor.batch,
        signal,
      });
      const pass = streamed[Symbol.asyncIterator]();
      try {
        for (;;) {
          if (this.due()) await this.breathe();
          if (control.stopReason) {
            yield this.stop(control.stopReason);
            return;
          }
          const next = await pass.next();
          if (next.done) break;
          const test: TestItem = { kind: 'test', seq: this.seq++, experience, batch: next.value, boundary: undefined };
          yield test;
          if (test.boundary !== undefined) {
            yield this.end(experience, true, true);
            experience = { ...first, index: experience.index + 1, classes: [...state.seenClasses] };
            state.experiences.push(experience);
            yield this.startExperience(experience, false);
          }
          const item: BatchItem = {
            kind: 'batch',
            seq: this.seq++,
            experience,
            epoch: 0,
            batches: undefined,
            batch: next.value,
          };
          yield item;
          if (maxSamples !== undefined && cursor.samples >= maxSamples) {
            own.abort();
            break;
          }
        }
      } finally {
        await pass.return?.();
      }
      // A pass a stop cut short is not the end of the stream.
      if (control.stopReason) {
        yield this.stop(control.stopReason);
        return;
      }
    }
    yield this.end(experience, true, false);
    yield { kind: 'run-end', seq: this.seq++ };
  }
}
