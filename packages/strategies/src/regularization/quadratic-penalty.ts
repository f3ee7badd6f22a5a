import * as tf from '@tensorflow/tfjs';
import { variableKey, type TensorStore } from '../common/tensor-state.js';

/**
 * `Σᵢ Fᵢ (θᵢ − θ*ᵢ)²` over the variables present in both stores with matching shapes, or undefined
 * when none match. Runs inside the trainer's gradient tape (tensors are tracked by its tidy).
 * Variables that changed shape (a grown head) or appeared later are skipped.
 */
export function weightedDistance(
  variables: readonly tf.Variable[],
  importance: TensorStore,
  anchor: TensorStore,
): tf.Scalar | undefined {
  let total: tf.Scalar | undefined;
  for (const [i, v] of variables.entries()) {
    const f = importance.get(variableKey(i));
    const a = anchor.get(variableKey(i));
    if (!f || !a || !sameShape(f.shape, v.shape) || !sameShape(a.shape, v.shape)) continue;
    const term = tf.sum(tf.mul(f, tf.square(tf.sub(v, a)))) as tf.Scalar;
    total = total ? (tf.add(total, term) as tf.Scalar) : term;
  }
  return total;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
