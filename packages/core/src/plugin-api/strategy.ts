import type * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import type { BatchSource } from '../data/batch-source.js';
import type { StreamInfo } from '../data/experience.js';
import type { EngramModel } from './engram-model.js';
import type { AfterBatchContext, ExperienceContext, LossContext, PredictorContext, StepContext } from './contexts.js';
import type { QuadraticPenalty } from './quadratic-penalty.js';
import type { SerializedState } from './serialized-state.js';

/**
 * A continual-learning strategy (role `strategy`). Every hook is optional; the engine awaits them in
 * the order the pipeline lists its strategies, like tfjs-layers' `CallbackList`.
 *
 * Per experience: `beforeExperience` → `adaptModel` → `trainData` → for each batch
 * (`transformBatch` → forward → `loss` / `penalty` → backward → `afterBackward` → optimizer step →
 * `afterBatch`) → `afterExperience`. In stream mode an experience ends at each detected boundary.
 *
 * Hooks communicate with the trainer only through their return values: a penalty is returned, never
 * added to shared state; gradients are returned, never mutated in place.
 */
export interface Strategy {
  /** Kind name as registered (`ewc`, `replay`, …). */
  readonly name: string;

  /** Called when an experience starts, before the model is adjusted. May read the experience's data. */
  beforeExperience?(ctx: ExperienceContext): Promise<void> | void;

  /**
   * Called after the pipeline's `adjust` steps at experience start. Return a replacement model (the
   * engine disposes nothing: a strategy that replaces the model disposes what it no longer needs).
   */
  adaptModel?(ctx: ExperienceContext): Promise<EngramModel | void> | EngramModel | void;

  /**
   * Replaces the experience's training data (joint training, cumulative, GDumb's memory). The first
   * strategy in the list that returns a source wins.
   */
  trainData?(ctx: ExperienceContext): Promise<BatchSource | void> | BatchSource | void;

  /** Mixes or filters a batch before the forward pass (replay). Returns the batch to train on. */
  transformBatch?(batch: Batch, ctx: StepContext): Promise<Batch> | Batch;

  /**
   * Replaces the default cross-entropy (e.g. Hedge's weighted per-head losses). Runs inside the
   * gradient tape; the first strategy returning a scalar wins.
   */
  loss?(ctx: LossContext): tf.Scalar | void;

  /**
   * A regularisation term added to the loss (EWC, SI, MAS, LwF, DER++). Runs inside the gradient tape.
   * Return a scalar, or a {@link QuadraticPenalty} for `scale · Σ F·(θ−θ*)²` penalties: the trainer
   * then adds its gradient at the optimizer step (fused with the update when native kernels are active).
   */
  penalty?(ctx: LossContext): tf.Scalar | QuadraticPenalty | void;

  /**
   * Receives the gradients keyed by variable name and returns the gradients to apply (A-GEM projection).
   * Returned tensors that are not in the input are disposed by the trainer after the step; the hook
   * must not dispose the input tensors itself.
   */
  afterBackward?(grads: tf.NamedTensorMap, ctx: StepContext): Promise<tf.NamedTensorMap> | tf.NamedTensorMap;

  /** Called after the optimizer step (SI path integral, replay buffer insertion, Hedge weights). */
  afterBatch?(ctx: AfterBatchContext): Promise<void> | void;

  /** Called when an experience ends (Fisher / importance estimates, teacher snapshots). */
  afterExperience?(ctx: ExperienceContext): Promise<void> | void;

  /**
   * Replaces the softmax head at evaluation (iCaRL's nearest-mean-of-exemplars classifier). Called by
   * the evaluation stage each time it evaluates — after every experience (once the strategies'
   * `afterExperience` ran, and for the untrained model when `evaluation.initial` is set) and, in stream
   * mode, before each prequential test step. Returns a function from inputs `[n, ...sampleShape]` to
   * class scores `[n, classes]` (the prediction is their arg-max; the reported loss stays the model's
   * cross-entropy), or nothing to keep the model's logits. The function is called inside `tf.tidy`
   * and must not keep tensors; the first strategy in the list that returns one wins.
   */
  predictor?(ctx: PredictorContext): ((x: tf.Tensor) => tf.Tensor) | undefined;

  /**
   * The view of a plain network (a checkpoint's, or a served copy of the weights) that the run
   * evaluates with, when the strategy wrapped the model in `adaptModel` (Hedge's α-weighted mixture of
   * its heads): called after `restore`, by `engram serve` and `engram run --serve`, which never train
   * and so never call `adaptModel`. Returns the wrapped model (sharing `model.network`), or nothing
   * to keep `model`. Must not change the network.
   */
  forEvaluation?(model: EngramModel, info: StreamInfo): EngramModel | undefined;

  /**
   * The labelled samples the strategy keeps (its replay memory), as it trained on them (preprocessed),
   * or nothing when it keeps none yet. Read between items by serving's promotion gates
   * (`serve.promote`, a seeded slice of it) and by `engram serve --follow` from a restored checkpoint.
   * Returns copies; must not change the strategy's state or draw random numbers.
   */
  memory?(): Batch | undefined;

  /** Everything needed to continue exactly after a restart (anchors, importances, buffers). */
  state?(): Promise<SerializedState> | SerializedState;

  /** Restores `state()` output; called after the model is built and before training resumes. */
  restore?(state: SerializedState): Promise<void> | void;

  /** Frees tensors held by the strategy. Called once at the end of the run. */
  dispose?(): void;
}
