import * as tf from '@tensorflow/tfjs';
import { distillationLoss } from '../regularization/lwf.strategy.js';

/** How iCaRL's training loss is built (see {@link icarlLoss}). */
export interface IcarlLossSpec {
  /** `bce`: sigmoid binary cross-entropy per output (the paper); `cross-entropy`: softmax cross-entropy. */
  readonly classification: 'bce' | 'cross-entropy';
  /** `sigmoid`: the old model's sigmoid outputs are the old classes' targets (the paper); `softmax`: T²·KL; `none`. */
  readonly distillation: 'sigmoid' | 'softmax' | 'none';
  /** Softmax temperature of `softmax` distillation. */
  readonly temperature: number;
}

/** BCE with logits per element, stable form: max(z, 0) − z·t + log(1 + e^−|z|). */
function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/**
 * iCaRL's loss on one batch, called by `IcarlStrategy.loss` inside the training tape. `logits` and
 * `teacher` are `[n, k]` over the same columns (the classes seen so far), `labels` the column of each
 * row, `old` the columns distilled (classes seen before this experience and absent from it).
 *
 * - `bce` + `sigmoid` is the paper's (Rebuffi et al. 2017, Algorithm 3): one mean binary cross-entropy
 *   over rows × columns, targets one-hot except on the old columns, whose targets are σ(teacher).
 * - `bce` + `none`: one-hot targets on every column; `bce` + `softmax`: that plus T²·KL on the old columns.
 * - `cross-entropy`: softmax cross-entropy over the k columns (mean over rows), plus, with `sigmoid`,
 *   the mean binary cross-entropy of the old columns against σ(teacher), or, with `softmax`,
 *   T²·KL(softmax(teacher/T) ‖ softmax(student/T)) over the old columns (as LwF).
 *
 * Without a teacher or old columns nothing is distilled. Creates tensors: call inside a tape or tidy.
 */
export function icarlLoss(
  logits: tf.Tensor2D,
  labels: Int32Array,
  old: readonly number[],
  teacher: tf.Tensor2D | undefined,
  spec: IcarlLossSpec,
): tf.Scalar {
  const [n, k] = logits.shape;
  const oneHot = new Float32Array(n * k);
  labels.forEach((c, i) => {
    oneHot[i * k + c] = 1;
  });
  const distil = teacher !== undefined && old.length > 0 ? spec.distillation : 'none';
  const oldIdx = tf.tensor1d(Int32Array.from(old), 'int32');
  let classification: tf.Scalar;
  if (spec.classification === 'bce') {
    let targets: tf.Tensor = tf.tensor2d(oneHot, [n, k]);
    if (distil === 'sigmoid' && teacher) {
      const mask = new Float32Array(k);
      for (const c of old) mask[c] = 1;
      const m = tf.tensor2d(mask, [1, k]);
      targets = tf.add(tf.mul(targets, tf.sub(1, m)), tf.mul(tf.sigmoid(teacher), m));
    }
    classification = tf.mean<tf.Scalar>(bceWithLogits(logits, targets));
  } else {
    const ce = tf.neg(tf.sum(tf.mul(tf.tensor2d(oneHot, [n, k]), tf.logSoftmax(logits)), 1));
    classification = tf.mean<tf.Scalar>(ce);
    if (distil === 'sigmoid' && teacher) {
      const student = tf.gather(logits, oldIdx, 1);
      const target = tf.sigmoid(tf.gather(teacher, oldIdx, 1));
      classification = tf.add(classification, tf.mean<tf.Scalar>(bceWithLogits(student, target)));
    }
  }
  if (distil === 'softmax' && teacher) {
    const kd = distillationLoss(
      tf.gather<tf.Tensor2D>(teacher, oldIdx, 1),
      tf.gather<tf.Tensor2D>(logits, oldIdx, 1),
      spec.temperature,
    );
    return tf.add(classification, kd);
  }
  return classification;
}
