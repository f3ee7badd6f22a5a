import type * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import type { Experience, StreamInfo } from '../data/experience.js';
import type { EngramModel } from './engram-model.js';
import type { Rng } from '../random/rng.js';
import type { EventSink } from '../events/event-sink.js';

/** How the engine runs: experience by experience, or one endless stream trained batch by batch. */
export type RunMode = 'experiences' | 'stream';

/** Everything a strategy may read at an experience boundary. */
export interface ExperienceContext {
  /** The model; `adaptModel` may return a replacement. */
  readonly model: EngramModel;
  readonly experience: Experience;
  readonly info: StreamInfo;
  readonly mode: RunMode;
  /** Batch size of the training configuration. */
  readonly batchSize: number;
  /** Generator reserved for this component, derived from the pipeline seed. */
  readonly rng: Rng;
  /** Emits events (warnings, boundary notices) to the run's observers. */
  readonly events: EventSink;
  /** Global count of optimizer steps so far. */
  readonly step: number;
  /**
   * Gradients of the default loss (cross-entropy of the current model, without penalties) on a batch,
   * keyed by variable name. The caller owns and must dispose the tensors.
   */
  gradientsOf(batch: Batch): tf.NamedTensorMap;
  /**
   * Replaces the optimizer by a fresh one (moments and step count cleared). For strategies that
   * retrain from scratch (joint, GDumb); call it from `beforeExperience` or `adaptModel`.
   */
  resetOptimizer(): void;
}

/** Context of one training step, given to `transformBatch`, `afterBackward` and `afterBatch`. */
export interface StepContext extends ExperienceContext {
  /** The batch being trained (after `transformBatch`). */
  readonly batch: Batch;
  /** Epoch within the experience (0 in stream mode). */
  readonly epoch: number;
}

/**
 * Context of a loss computation, inside the gradient tape: tensors here are tracked and disposed by the
 * trainer's `tf.tidy`; hooks must not keep them.
 */
export interface LossContext extends StepContext {
  /** Inputs `[n, ...sampleShape]`. */
  readonly x: tf.Tensor;
  /** Integer labels `[n]`. */
  readonly y: tf.Tensor1D;
  /** Logits of the current model on `x` (computed once, shared by all hooks). */
  readonly logits: tf.Tensor2D;
  /** Default loss: mean softmax cross-entropy of `logits` against `y`. */
  readonly crossEntropy: tf.Scalar;
}

/** Context after the optimizer step. */
export interface AfterBatchContext extends StepContext {
  /** Value of the total loss of the step. */
  readonly loss: number;
  /** Value of the summed penalties of the step. */
  readonly penalty: number;
}

/** What {@link Strategy.predictor} may read: the model as it is at evaluation time. */
export interface PredictorContext {
  readonly model: EngramModel;
  readonly info: StreamInfo;
}
