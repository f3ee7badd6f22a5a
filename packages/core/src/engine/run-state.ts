import type { Experience, StreamInfo } from '../data/experience.js';
import type { EngramModel } from '../model/engram-model.js';
import type { Rng } from '../random/rng.js';

/** Where a run is: enough to resume a pass at the next batch. */
export interface RunCursor {
  /** Index of the experience being trained (stream mode: boundary count). */
  experience: number;
  /** Epoch within it. */
  epoch: number;
  /** Batches of this epoch already trained. */
  batch: number;
  /** Optimizer steps since the run started. */
  step: number;
  /** Records of the data trained on since the run started (what `training.maxSamples` counts). */
  samples: number;
  /** Replayed rows trained on besides them (rows a strategy's `transformBatch` added). */
  replayed: number;
  /**
   * True once experience `experience` has ended (its `afterExperience`, evaluation and checkpoint
   * are done): a resume from here starts the next experience. False inside it (a resume continues at
   * `epoch`/`batch`). A fresh finite run starts at experience -1, done: nothing has started.
   */
  experienceDone: boolean;
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
  readonly cursor: RunCursor = {
    experience: 0,
    epoch: 0,
    batch: 0,
    step: 0,
    samples: 0,
    replayed: 0,
    experienceDone: false,
  };
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
