import type { Experience, StreamInfo } from '../data/experience.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { Rng } from '../random/rng.js';

import type { RunCursor } from '../plugin-api/run-cursor.js';

export type { RunCursor } from '../plugin-api/run-cursor.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The one writer of a run's cursor: every change of position is one of these transitions. The feed
 * moves between experiences and epochs, the train stage advances by a trained batch, a checkpoint's
 * restore puts a stored cursor back. Everyone else reads {@link RunPosition.cursor} (a plain object,
 * so reading it on the step path costs a field load).
 */
export class RunPosition {
  private readonly c: Writable<RunCursor> = {
    experience: 0,
    epoch: 0,
    batch: 0,
    step: 0,
    samples: 0,
    replayed: 0,
    experienceDone: false,
  };

  /** The cursor, read-only for everyone but this class. */
  get cursor(): RunCursor {
    return this.c;
  }

  /** A finite run before its first experience: nothing started (a stop now resumes at experience 0). */
  notStarted(): void {
    this.c.experience = -1;
    this.c.experienceDone = true;
  }

  /** Experience `index` starts, or is re-entered after a resume. */
  enterExperience(index: number): void {
    this.c.experience = index;
    this.c.experienceDone = false;
  }

  /** A pass from the first epoch's first batch (an experience that is not re-entered). */
  rewind(): void {
    this.c.epoch = 0;
    this.c.batch = 0;
  }

  /** Epoch `epoch` of the current experience is being trained. */
  inEpoch(epoch: number): void {
    this.c.epoch = epoch;
  }

  /** Epoch `epoch` ended: the next begins at its first batch. */
  endEpoch(epoch: number): void {
    this.c.batch = 0;
    this.c.epoch = epoch + 1;
  }

  /** The current experience ended (its hooks, evaluation and checkpoint follow). */
  endExperience(): void {
    this.rewind();
    this.c.experienceDone = true;
  }

  /**
   * One optimizer step was taken on a batch that came in with `records` records of the data and was
   * trained as `rows` rows (replayed rows a strategy's `transformBatch` added included). Called by
   * the train stage, once per batch.
   */
  advance(records: number, rows: number): void {
    const c = this.c;
    c.step++;
    c.batch++;
    c.samples += records;
    c.replayed += Math.max(0, rows - records);
  }

  /** Puts a checkpoint's cursor back (one written before `replayed` existed counts none replayed). */
  restore(cursor: Omit<RunCursor, 'replayed'> & { readonly replayed?: number }): void {
    Object.assign(this.c, { ...cursor, replayed: cursor.replayed ?? 0 });
  }
}

/** Running totals of the current experience and epoch (checkpointed so a resumed epoch reports the same epoch-end). */
export interface RunProgress {
  /** Records trained on in the current experience (replayed rows not counted). */
  experienceSamples: number;
  /** Sum of loss × batch size over the current epoch's batches. */
  epochLossSum: number;
  /** Correct predictions over the current epoch's batches. */
  epochCorrect: number;
  /** Samples of the current epoch. */
  epochSeen: number;
  /** Regression runs: sum of |output − target| over the current epoch's targets (the running training MAE's numerator). */
  epochAbsoluteError?: number;
  /** Regression runs: targets of the current epoch (samples × outputs). */
  epochTargets?: number;
}

/**
 * The mutable state of a run shared by the stages: the model, the cursor, the stream's description and
 * the experiences seen. Checkpoints serialise it (with the optimizer and every component's state).
 */
export class RunState {
  model!: EngramModel;
  info!: StreamInfo;
  /** Every experience the run has started, in order (their test sets stay evaluable). */
  readonly experiences: Experience[] = [];
  /** Classes trained on so far. */
  readonly seenClasses = new Set<number>();
  /** The only writer of {@link cursor}. */
  readonly position = new RunPosition();
  /** Where the run is (read-only: changed through {@link position}). */
  readonly cursor: RunCursor = this.position.cursor;
  /** [resume] Running totals of the current experience/epoch (see {@link RunProgress}). */
  readonly progress: RunProgress = { experienceSamples: 0, epochLossSum: 0, epochCorrect: 0, epochSeen: 0 };
  /**
   * [resume] Set by early stopping (`TrainingControls`, checkpointed under `/training`): the feed skips
   * the current experience's remaining epochs. Cleared when an experience starts.
   */
  stopExperience = false;
  /** Wall-clock seconds spent training (excludes evaluation), over every segment of a resumed run. */
  trainSeconds = 0;
  /** [resume] Wall-clock seconds of the run's segments before this process (from the checkpoint). */
  priorWallSeconds = 0;
  /** `performance.now()` when this process started the run. */
  startedAt = performance.now();

  constructor(
    /** The run's root generator (pipeline seed). */
    readonly rng: Rng,
  ) {}
}
