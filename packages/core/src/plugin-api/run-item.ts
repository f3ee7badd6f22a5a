import type { Batch } from '../data/batch.js';
import type { BatchSource } from '../data/batch-source.js';
import type { Experience } from '../data/experience.js';

/**
 * What flows through a run's stages, in order. The engine's feed emits a run as
 *
 *     run-start, (experience-start, (epoch-start, batch…, epoch-end)…, experience-end)…, run-end
 *
 * and a stream run (test-then-train) as
 *
 *     run-start, experience-start, (test, [experience-end, experience-start,] batch)…, experience-end, run-end
 *
 * Every item carries `seq`, its number in the run's feed (the pull loop waits for that number to
 * leave the last stage before it pulls the next item). Stages may replace `batch` / `data` in place
 * (that is how preprocessing and `trainData` reach later stages) and must pass every item on.
 */
export type RunItem =
  | RunStartItem
  | ExperienceStartItem
  | EpochStartItem
  | BatchItem
  | TestItem
  | EpochEndItem
  | ExperienceEndItem
  | RunEndItem;

/** Fields every item has. */
interface ItemBase {
  /** Position of the item in the run's feed (0-based, this process). */
  readonly seq: number;
}

/** First item of every run (fresh or resumed). */
export interface RunStartItem extends ItemBase {
  readonly kind: 'run-start';
  /** True when the run continues from a checkpoint. */
  readonly resumed: boolean;
  /** True when this new run started from an earlier run's checkpoint (`--from`): it has a past, so no initial evaluation. */
  readonly continued: boolean;
}

/** An experience starts. Stages fit, adjust and prepare here; `data` is what its batches are pulled from. */
export interface ExperienceStartItem extends ItemBase {
  readonly kind: 'experience-start';
  readonly experience: Experience;
  /** [resume] The experience had started before the checkpoint: its `experience-start` event is not repeated. */
  readonly resumed: boolean;
  /** Training data of the experience; starts as `experience.train`, a stage may replace it (strategies' `trainData`). */
  data: BatchSource;
}

/** An epoch of a finite experience starts (not repeated when a resume lands inside it). */
export interface EpochStartItem extends ItemBase {
  readonly kind: 'epoch-start';
  readonly experience: Experience;
  readonly epoch: number;
  readonly epochs: number;
}

/** One training batch, pulled from the experience's data. */
export interface BatchItem extends ItemBase {
  readonly kind: 'batch';
  readonly experience: Experience;
  readonly epoch: number;
  /** Batches per epoch, when the data's size is known. */
  readonly batches: number | undefined;
  /** The batch; the preprocess stage replaces the raw batch with its `train`-phase output. */
  batch: Batch;
}

/** Stream mode: the next batch, shown to the model before it is trained on (prequential test-then-train). */
export interface TestItem extends ItemBase {
  readonly kind: 'test';
  readonly experience: Experience;
  /** The batch; the preprocess stage replaces the raw batch with its `test`-phase output. */
  batch: Batch;
  /**
   * Set by the stage whose boundary detector fired on this batch (the evaluate stage), to the
   * boundary's reason: once the item is through the stages, the feed ends the experience and starts
   * the next before the batch is trained on.
   */
  boundary: string | undefined;
}

/** The last batch of an epoch was trained. */
export interface EpochEndItem extends ItemBase {
  readonly kind: 'epoch-end';
  readonly experience: Experience;
  readonly epoch: number;
}

/** An experience's training ended. */
export interface ExperienceEndItem extends ItemBase {
  readonly kind: 'experience-end';
  readonly experience: Experience;
  /**
   * Stream mode: `true` when a detected boundary ends the experience (the next one starts right
   * after; no evaluation, no checkpoint), `false` when the stream itself ended.
   */
  readonly boundary: boolean;
  /** True in stream mode. */
  readonly stream: boolean;
}

/** Last item of every run. */
export interface RunEndItem extends ItemBase {
  readonly kind: 'run-end';
  /** Set when a signal stopped the run at a batch boundary (`SIGTERM`, or the abort reason). */
  readonly stopped?: string;
}
