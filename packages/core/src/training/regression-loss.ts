import * as tf from '@tensorflow/tfjs';

/** The regression losses (the planned `training.loss` of `task: "regression"`, issue 29 item 3). */
export type RegressionLoss = 'mse' | 'mae' | 'huber';

/**
 * Per-sample regression loss of `predictions` `[n, k]` against `targets` `[n, k]`, averaged over the
 * k outputs: `mse` mean squared error, `mae` mean absolute error, `huber` with threshold `delta`
 * (`½e²` for `|e| ≤ δ`, `δ(|e| − ½δ)` beyond; torch's `HuberLoss`). Call inside a tape or tidy.
 */
export function perSampleRegressionLoss(
  predictions: tf.Tensor2D,
  targets: tf.Tensor2D,
  loss: RegressionLoss,
  delta = 1,
): tf.Tensor1D {
  return tf.tidy(() => {
    const e = tf.sub(predictions, targets);
    switch (loss) {
      case 'mse':
        return tf.mean<tf.Tensor1D>(tf.square(e), -1);
      case 'mae':
        return tf.mean<tf.Tensor1D>(tf.abs(e), -1);
      case 'huber': {
        const a = tf.abs(e);
        const quadratic = tf.minimum(a, delta);
        // ½q² + δ(|e| − q): ½e² inside the threshold, δ(|e| − ½δ) beyond, one smooth expression
        const h = tf.add(tf.mul(tf.square(quadratic), 0.5), tf.mul(tf.sub(a, quadratic), delta));
        return tf.mean<tf.Tensor1D>(h, -1);
      }
    }
  });
}

/** Mean regression loss over a batch. */
export function regressionLoss(
  predictions: tf.Tensor2D,
  targets: tf.Tensor2D,
  loss: RegressionLoss,
  delta = 1,
): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(perSampleRegressionLoss(predictions, targets, loss, delta)));
}

/** Sums for MAE and RMSE over rows (row-major, k values per row): what an evaluation accumulates. */
export function errorSums(
  predictions: ArrayLike<number>,
  targets: ArrayLike<number>,
): { absolute: number; squared: number; count: number } {
  let absolute = 0;
  let squared = 0;
  for (let i = 0; i < targets.length; i++) {
    const e = (predictions[i] as number) - (targets[i] as number);
    absolute += Math.abs(e);
    squared += e * e;
  }
  return { absolute, squared, count: targets.length };
}
