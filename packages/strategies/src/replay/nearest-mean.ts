import * as tf from '@tensorflow/tfjs';

/** Score of a class that has no exemplars (never predicted by the NME classifier). */
export const NO_MEAN = -1e9;

/** A mean feature of exemplars and the class it stands for. */
export interface ClassMean {
  readonly cls: number;
  readonly mean: Float32Array;
}

/**
 * Nearest-mean-of-exemplars class scores (iCaRL, Rebuffi et al. 2017, Algorithm 1): −‖φ(x) − μ‖² to
 * the nearest mean of each output class (a class may have several means: one per exemplar set),
 * {@link NO_MEAN} for classes without one. `features` are `[n, d]`, L2-normalised when the means are.
 * Called by iCaRL's evaluation predictor for every evaluated batch. A new tensor `[n, k]`; call inside
 * `tf.tidy`.
 */
export function nmeScores(features: tf.Tensor2D, means: readonly ClassMean[], k: number): tf.Tensor2D {
  const [n, d] = features.shape;
  const used = means.filter((m) => m.cls < k);
  if (used.length === 0) return tf.fill<tf.Rank.R2>([n, k], NO_MEAN);
  const matrix = new Float32Array(d * used.length);
  const bias = new Float32Array(used.length);
  used.forEach(({ mean }, c) => {
    for (let j = 0; j < d; j++) matrix[j * used.length + c] = 2 * (mean[j] as number);
    bias[c] = -mean.reduce((a, v) => a + v * v, 0);
  });
  const fsq = tf.sum(tf.square(features), 1, true);
  const perMean = tf.sub(
    tf.add(tf.matMul(features, tf.tensor2d(matrix, [d, used.length])), tf.tensor2d(bias, [1, used.length])),
    fsq,
  );
  const columns = Array.from({ length: k }, (_, c) => {
    const idx = used.flatMap((m, i) => (m.cls === c ? [i] : []));
    return idx.length === 0 ? tf.fill([n], NO_MEAN) : tf.max(tf.gather(perMean, tf.tensor1d(idx, 'int32'), 1), 1);
  });
  return tf.stack(columns, 1) as tf.Tensor2D;
}
