import type { SerializedState } from './serialized-state.js';

/**
 * Why a checkpoint was written. `batches` / `seconds`: the pipeline's schedule inside an experience;
 * `experience`: after an experience's evaluation (`checkpoint.everyExperience`); `end`: a stream run
 * reached its end; `signal`: the run was stopped (SIGINT/SIGTERM, an aborted `RunOptions.signal`) at
 * a batch boundary — a resume continues exactly where it stopped.
 */
export type CheckpointReason = 'batches' | 'seconds' | 'experience' | 'end' | 'signal';

/** Every {@link CheckpointReason}, for validation of stored checkpoints. */
export const CHECKPOINT_REASONS: readonly CheckpointReason[] = ['batches', 'seconds', 'experience', 'end', 'signal'];

/**
 * A part of a run whose state a checkpoint holds: a component (strategy, transform, adjustment,
 * detector, data source, run stage), the optimizer, the run's random generators or its cursor.
 * Registered in the run's {@link CheckpointRegistry} under a JSON pointer.
 *
 * - `state()` is called while a checkpoint is captured, between two batches; it must not change the
 *   run (no random draws, no training). It may read tensors (`dataSync`) but must return host data,
 *   and arrays it will not change afterwards: they are encoded and written as they are, without a
 *   copy, after `state()` has returned (the run waits for the write before the next batch, but a
 *   component changing an array it returned from a timer or another thread would corrupt the
 *   checkpoint). Return a copy (`slice()`) of any array the component keeps mutating.
 * - `restore(state)` is called by `--resume` (and by `engram eval` for the preprocessing) with what
 *   `state()` returned — its arrays may be views into the checkpoint file read from disk, so keeping
 *   one keeps that buffer alive: copy what you keep long — after the model is built and before the first batch; see
 *   {@link CheckpointEntryOptions.afterExperienceStart} for the second call.
 * - `checkpointed(state)` is called once the checkpoint that holds `state` is durable on disk
 *   (written, fsynced, renamed into place): the place to acknowledge upstream (a Redis `XACK`).
 *   It may do I/O but must not touch the model or tensors; a rejection becomes a `warning` event
 *   and never undoes the checkpoint.
 */
export interface Checkpointable {
  state(): SerializedState | Promise<SerializedState>;
  restore?(state: SerializedState): void | Promise<void>;
  checkpointed?(state: SerializedState): void | Promise<void>;
}

/** How a {@link Checkpointable} takes part in a resume. */
export interface CheckpointEntryOptions {
  /**
   * Restore it again right after a resumed experience's start hooks ran (preprocess fitting,
   * adjustments, strategies' `beforeExperience` / `adaptModel` / `trainData`), which may have changed
   * it. Default true. The optimizer and the data source are restored once, before anything starts.
   */
  readonly afterExperienceStart?: boolean;
  /** A checkpoint without this entry still restores (the entry keeps its fresh state). Default false. */
  readonly optional?: boolean;
}
