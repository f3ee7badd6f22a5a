import * as tf from '@tensorflow/tfjs';

/**
 * Name of the optional fused kernel for batch norm's training forward pass over every axis but the
 * last (channels last, float32). A backend that registers it (`@engram/native` on wasm) runs the
 * statistics and the normalisation in one call. Inputs `{ x, scale [C], offset [C] }`, attribute
 * `{ varianceEpsilon }`; outputs, float32: `y` (x's shape), `mean [C]`, `variance [C]` (biased, as
 * `tf.moments`), `invStd [C]` (`1 / sqrt(variance + ε)`).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'EngramBatchNormTraining';

/**
 * Name of the optional fused kernel for the gradient of {@link BATCH_NORM_TRAINING_KERNEL}. Inputs
 * `{ dy, x, scale, mean, invStd }` (the last two as the forward kernel gave them); outputs `dx` (x's
 * shape), `dScale [C]`, `dOffset [C]`.
 */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'EngramBatchNormTrainingGrad';

/** What {@link batchNormTraining} returns. */
export interface BatchNormTrainingResult {
  /** The normalised, scaled and shifted input (x's shape); differentiable for x, scale and offset. */
  readonly y: tf.Tensor;
  /** The batch mean per channel `[C]`; not differentiable (for the moving averages). */
  readonly mean: tf.Tensor1D;
  /** The biased batch variance per channel `[C]`; not differentiable (for the moving averages). */
  readonly variance: tf.Tensor1D;
}

interface ForwardCache {
  readonly y: tf.Tensor;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
  readonly invStd: tf.Tensor1D;
}

interface BackwardGrads {
  readonly dx: tf.Tensor;
  readonly dScale: tf.Tensor1D;
  readonly dOffset: tf.Tensor1D;
}

const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;

/** Whether the active backend has both fused batch-norm training kernels (forward and gradient). */
export function hasFusedBatchNormTrainingKernels(): boolean {
  return hasKernel(BATCH_NORM_TRAINING_KERNEL) && hasKernel(BATCH_NORM_TRAINING_GRAD_KERNEL);
}

const rowsOf = (x: tf.Tensor, channels: number): tf.Tensor2D => tf.reshape(x, [x.size / channels, channels]);

/** The forward formulas as tfjs ops (backends without {@link BATCH_NORM_TRAINING_KERNEL}). */
function forwardOps(x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number): ForwardCache {
  const channels = scale.shape[0];
  const rows = rowsOf(x, channels);
  const mean = tf.mean<tf.Tensor1D>(rows, 0);
  const centered = tf.sub(rows, mean);
  const variance = tf.mean<tf.Tensor1D>(tf.square(centered), 0);
  const invStd = tf.rsqrt(tf.add<tf.Tensor1D>(variance, epsilon));
  const y = tf.reshape(tf.add(tf.mul(centered, tf.mul(invStd, scale)), offset), x.shape);
  return { y, mean, variance, invStd };
}

/** The backward formulas as tfjs ops (backends without {@link BATCH_NORM_TRAINING_GRAD_KERNEL}). */
function backwardOps(
  dy: tf.Tensor,
  x: tf.Tensor,
  scale: tf.Tensor1D,
  mean: tf.Tensor1D,
  invStd: tf.Tensor1D,
): BackwardGrads {
  const channels = scale.shape[0];
  const n = x.size / channels;
  const centered = tf.sub(rowsOf(x, channels), mean);
  const dyRows = rowsOf(dy, channels);
  const dOffset = tf.sum<tf.Tensor1D>(dyRows, 0);
  const dyCentered = tf.sum<tf.Tensor1D>(tf.mul(dyRows, centered), 0);
  const dScale = tf.mul<tf.Tensor1D>(dyCentered, invStd);
  // dx = scale·invStd/N · (N·dy − dOffset − xhat·dScale) with xhat = (x − mean)·invStd, as
  // dy·k + (x − mean)·q + r with per-channel k = scale·invStd, q = −k·invStd·dScale/N, r = −k·dOffset/N:
  // four passes over the activation instead of seven.
  const k = tf.mul(scale, invStd);
  const q = tf.mul(k, tf.mul(invStd, tf.div(dScale, -n)));
  const r = tf.mul(k, tf.div(dOffset, -n));
  const dx = tf.reshape(tf.add(tf.mul(dyRows, k), tf.add(tf.mul(centered, q), r)), x.shape);
  return { dx, dScale, dOffset };
}

function forward(x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number): ForwardCache {
  // The fused kernel takes at least one row; an empty batch gives tfjs' NaN statistics through the ops.
  if (!hasKernel(BATCH_NORM_TRAINING_KERNEL) || x.size === 0) return forwardOps(x, scale, offset, epsilon);
  const outputs: tf.Tensor | tf.Tensor[] = tf
    .engine()
    .runKernel(BATCH_NORM_TRAINING_KERNEL, { x, scale, offset }, { varianceEpsilon: epsilon });
  const [y, mean, variance, invStd] = outputs as tf.Tensor[];
  if (!y || !mean || !variance || !invStd)
    throw new Error(`${BATCH_NORM_TRAINING_KERNEL} returned fewer than 4 outputs`);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, invStd: invStd as tf.Tensor1D };
}

function backward(
  dy: tf.Tensor,
  x: tf.Tensor,
  scale: tf.Tensor1D,
  mean: tf.Tensor1D,
  invStd: tf.Tensor1D,
): BackwardGrads {
  if (!hasKernel(BATCH_NORM_TRAINING_GRAD_KERNEL) || x.size === 0) return backwardOps(dy, x, scale, mean, invStd);
  const outputs: tf.Tensor | tf.Tensor[] = tf
    .engine()
    .runKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, { dy, x, scale, mean, invStd }, {});
  const [dx, dScale, dOffset] = outputs as tf.Tensor[];
  if (!dx || !dScale || !dOffset) throw new Error(`${BATCH_NORM_TRAINING_GRAD_KERNEL} returned fewer than 3 outputs`);
  return { dx, dScale: dScale as tf.Tensor1D, dOffset: dOffset as tf.Tensor1D };
}

/** {@link batchNormTraining}'s body (wrapped by `tf.op` for a named scope). */
function batchNormTraining_(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainingResult {
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2 || channels === undefined)
    throw new Error(`batch norm in training takes rank >= 2, got [${x.shape.join(', ')}]`);
  if (scale.shape[0] !== channels || offset.shape[0] !== channels)
    throw new Error(
      `batch norm over ${channels} channels got scale [${scale.shape.join(', ')}] and offset [${offset.shape.join(', ')}]`,
    );
  if (x.dtype !== 'float32') throw new Error(`batch norm in training takes float32, got ${x.dtype}`);
  // customGrad's value is one tensor: the statistics leave the op kept (out of every tidy scope), and
  // are handed over as clones (shared data, no copy) that the caller's scope tracks like any op output.
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, s, o, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const cache = forward(xs, s, o, epsilon);
    save([xs, s, cache.mean, cache.invStd]);
    stats = { mean: tf.keep(cache.mean), variance: tf.keep(cache.variance) };
    return {
      value: cache.y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [sx, ss, sm, si] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const grads = backward(dy, sx, ss, sm, si);
        return [grads.dx, grads.dScale, grads.dOffset];
      },
    };
  });
  const y = run(x, scale, offset);
  const kept = stats as { mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined;
  if (!kept) throw new Error('batch norm in training produced no statistics');
  const mean = tf.clone(kept.mean);
  const variance = tf.clone(kept.variance);
  kept.mean.dispose();
  kept.variance.dispose();
  return { y, mean, variance };
}

/**
 * Batch normalisation in training as ONE differentiable op: over every axis of `x` but the last
 * (channels last, rank ≥ 2, float32), `mean = Σx/N`, `variance = Σ(x − mean)²/N` (biased, as
 * `tf.moments`), `y = (x − mean)/sqrt(variance + ε) · scale + offset`, with N = x.size / C. The
 * gradient of x, scale and offset is hand-written (`tf.customGrad`):
 * `xhat = (x − mean)·invStd`, `dOffset = Σ dy`, `dScale = Σ dy·xhat`,
 * `dx = scale·invStd/N · (N·dy − dOffset − xhat·dScale)`, so a training step runs one fused kernel per
 * pass (or a few large tfjs ops) instead of the ≈ 25 small kernels of `tf.moments` + FusedBatchNorm and
 * autodiff's chain through them. Both passes use the fused {@link BATCH_NORM_TRAINING_KERNEL} /
 * {@link BATCH_NORM_TRAINING_GRAD_KERNEL} when the active backend has them, else tfjs ops computing
 * the same formulas. `mean` and `variance` carry no gradient (they feed the moving averages).
 *
 * Called by `EngramBatchNormalization`'s training pass (and usable directly); allocates its three
 * outputs, tracked by the caller's scope like any op's (and, under a gradient tape, the saved x, scale,
 * mean and 1/std, which backprop frees). Runs as the op scope `batchNormTraining__op`.
 */
export const batchNormTraining = tf.op({ batchNormTraining_ });
