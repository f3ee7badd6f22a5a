import type * as tf from '@tensorflow/tfjs';
import type { BatchTensors } from './batch-tensors.js';
import { perSampleCrossEntropy } from './loss.js';
import { perSampleRegressionLoss, type RegressionLoss } from './regression-loss.js';

/** What a pipeline predicts: a class per sample (default) or `numClasses` real values per sample. */
export type TaskKind = 'classification' | 'regression';

/** The training loss of a pipeline: `training.loss` with `training.huberDelta`. */
export interface LossSpec {
  readonly kind: 'cross-entropy' | RegressionLoss;
  /** Huber's threshold δ (only read for `huber`). */
  readonly delta: number;
}

/** Cross-entropy: the loss of every classification pipeline. */
export const CROSS_ENTROPY: LossSpec = { kind: 'cross-entropy', delta: 1 };

/**
 * The loss a pipeline trains with: `training.loss` if set, else cross-entropy for classification and
 * `mse` for `task: "regression"`. Called once when the run's trainer is built.
 */
export function lossSpecOf(def: {
  readonly task?: TaskKind;
  readonly training: { readonly loss?: LossSpec['kind']; readonly huberDelta?: number };
}): LossSpec {
  const kind = def.training.loss ?? (def.task === 'regression' ? 'mse' : 'cross-entropy');
  return { kind, delta: def.training.huberDelta ?? 1 };
}

/**
 * Per-sample default loss of `outputs` `[n, k]`: the regression loss against `t.values` when the batch
 * carries regression targets, else softmax cross-entropy against `t.y` / `t.targets`. A regression
 * batch under a cross-entropy spec (a strategy test, `gradientsOf` of a plain context) uses `mse`.
 * Call inside a tape or tidy.
 */
export function perSampleTaskLoss(outputs: tf.Tensor2D, t: BatchTensors, spec: LossSpec): tf.Tensor1D {
  if (t.values)
    return perSampleRegressionLoss(outputs, t.values, spec.kind === 'cross-entropy' ? 'mse' : spec.kind, spec.delta);
  return perSampleCrossEntropy(outputs, t.y, t.targets);
}
