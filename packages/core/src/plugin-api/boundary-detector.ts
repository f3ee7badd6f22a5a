import type { SerializedState } from './serialized-state.js';

/**
 * Detects experience boundaries in a task-free stream (role `detector`, pipeline `boundary`).
 *
 * In stream mode the engine evaluates each incoming batch before training on it (prequential) and calls
 * `update` with the per-sample losses of that test step. When it returns true the engine ends the
 * current experience (strategies run `afterExperience`: consolidation) and starts the next one, and
 * emits a `boundary` event.
 */
export interface BoundaryDetector {
  /** Feeds the prequential per-sample losses of one batch; true = a boundary (drift) was detected. */
  update(losses: Float32Array): boolean;
  /** Why the last boundary was detected, for the event (`page-hinkley drift`, `every 1000 samples`). */
  readonly reason?: string;
  state?(): SerializedState;
  restore?(state: SerializedState): void;
}
