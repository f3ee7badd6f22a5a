import type { Batch } from '../data/batch.js';
import type { Experience, StreamInfo } from '../data/experience.js';
import type { SerializedState } from './serialized-state.js';

/** Whether a batch is being trained on or evaluated (augmentations apply to `train` only). */
export type TransformPhase = 'train' | 'test';

/**
 * A preprocessing step (role `transform`, pipeline `preprocess[]`), applied in order to every batch
 * before it reaches the model: training batches, test batches and replayed ones alike.
 *
 * Transforms work on host arrays (see {@link Batch}) and must be deterministic given their
 * `ComponentServices.rng`. Statistics (e.g. normalisation mean/std) may be fitted in
 * `beforeExperience` — on the first experience only, never peeking at later data.
 */
export interface Transform {
  /** Sample shape after this step, given the shape before (default: unchanged). Called once before the model is built. */
  outputShape?(inputShape: readonly number[], info: StreamInfo): number[];
  /** Called at the start of each experience, before its first batch, with the raw experience. */
  beforeExperience?(experience: Experience): Promise<void> | void;
  /** Maps one batch. Must not modify its input arrays. */
  apply(batch: Batch, phase: TransformPhase): Batch;
  /** Fitted statistics and RNG position, for checkpoints. */
  state?(): SerializedState;
  restore?(state: SerializedState): void;
}
