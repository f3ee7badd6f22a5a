import type { Experience, StreamInfo } from '../data/experience.js';
import type { EngramModel } from './engram-model.js';
import type { Rng } from '../random/rng.js';
import type { SerializedState } from './serialized-state.js';

/** What an {@link Adjustment} may read. */
export interface AdjustContext {
  readonly experience: Experience;
  readonly info: StreamInfo;
  /** Every class seen in training so far, including this experience's. */
  readonly seenClasses: readonly number[];
  /** Generator reserved for this adjustment. */
  readonly rng: Rng;
}

/**
 * A model adjustment (role `adjust`, pipeline `adjust[]`): applied at every experience start, before
 * the strategies' `adaptModel`, in the order listed — grow the classifier head, freeze layers, mask
 * logits per task. Returns a replacement model, or nothing when it changed the model in place (e.g.
 * `trainable = false`). A replaced model's old variables are disposed by the engine.
 */
export interface Adjustment {
  apply(model: EngramModel, ctx: AdjustContext): Promise<EngramModel | void> | EngramModel | void;
  /** What the adjustment learned across experiences (e.g. task → classes), for checkpoints. */
  state?(): SerializedState;
  /** Restores `state()`; called before the resumed experience's `apply`. */
  restore?(state: SerializedState): void;
  /**
   * The view of a checkpoint's plain network that the run evaluated with, for `engram eval` (which
   * trains nothing and so never calls `apply`): e.g. `multi-head`'s per-task masks. Called once, after
   * `restore`, with the checkpoint's network wrapped as a plain model. Adjustments that change the
   * network itself (grow-head, surgery) need none: the checkpoint holds the changed topology.
   */
  forEvaluation?(model: EngramModel, info: StreamInfo): EngramModel;
}
