import * as tf from '@tensorflow/tfjs';

/**
 * Per-sample softmax cross-entropy of `logits` `[n, k]` against integer labels `y` `[n]`, or against
 * soft `targets` `[n, k]` when given. Numerically stable (log-softmax).
 */
export function perSampleCrossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D, targets?: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const t = targets ?? tf.oneHot(y, logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(t, logp), -1)) as tf.Tensor1D;
  });
}

/** Mean softmax cross-entropy: the default training loss. */
export function crossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D, targets?: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(perSampleCrossEntropy(logits, y, targets)));
}
