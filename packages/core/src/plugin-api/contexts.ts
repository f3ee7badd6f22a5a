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
   * Gradients of the default loss (cross-entropy, or the regression loss of a regression batch, of the current model, without penalties) on a batch,
   * keyed by variable name. The caller owns and must dispose the tensors.
   */
  gradientsOf(batch: Batch): tf.NamedTensorMap;
  /**
   * Replaces the optimizer by a fresh one (moments and step count cleared). For strategies that
   * retrain from scratch (joint, GDumb); call it from `beforeExperience` or `adaptModel`.
   */
  resetOptimizer(): void;
  /**
   * The pipeline's preprocessing in its test phase (fitted statistics, no augmentation), the form in
   * which the model sees rows at evaluation. `experience.train` yields rows *before* preprocessing (the
   * preprocess stage transforms the batches of the stream), so a strategy that runs the model on rows it
   * took from there itself (iCaRL's herding and class means) passes them through this first. Returns
   * the rows unchanged when the pipeline has no preprocessing; absent in contexts built by older hosts.
   */
  prepare?(batch: Batch): Batch;
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
  /**
   * Default loss: mean softmax cross-entropy of `logits` against `y`, or in a regression run the
   * regression loss (`training.loss`) of the outputs against `targetValues`.
   */
  readonly crossEntropy: tf.Scalar;
  /** Regression targets `[n, k]` of a regression run (absent for classification). */
  readonly targetValues?: tf.Tensor2D;
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
  /**
   * The pipeline's preprocessing in its test phase (fitted statistics, no augmentation), the form in
   * which the model sees rows at evaluation. `experience.train` yields rows *before* preprocessing (the
   * preprocess stage transforms the batches of the stream), so a strategy that runs the model on rows it
   * took from there itself (iCaRL's herding and class means) passes them through this first. Returns
   * the rows unchanged when the pipeline has no preprocessing; absent when the host does not preprocess.
   */
  prepare?(batch: Batch): Batch;
}
