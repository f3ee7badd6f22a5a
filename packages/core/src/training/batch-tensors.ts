import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';

/** The tensors of a batch: inputs, labels and optional soft targets. Create inside `tf.tidy`. */
export interface BatchTensors {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor1D;
  readonly targets?: tf.Tensor2D;
  /** Regression targets `[n, k]` (from `Batch.targetValues`). */
  readonly values?: tf.Tensor2D;
}

/** Turns a host batch into tensors (inside the caller's `tf.tidy` or gradient tape). */
export function batchTensors(batch: Batch): BatchTensors {
  const n = batch.y.length;
  const x = tf.tensor(batch.x, [n, ...batch.sampleShape], 'float32');
  const y = tf.tensor1d(batch.y, 'int32');
  if (batch.targetValues) {
    return { x, y, values: tf.tensor2d(batch.targetValues, [n, batch.targetValues.length / Math.max(1, n)]) };
  }
  if (!batch.targets) return { x, y };
  const width = batch.targets.length / Math.max(1, n);
  return { x, y, targets: tf.tensor2d(batch.targets, [n, width]) };
}
