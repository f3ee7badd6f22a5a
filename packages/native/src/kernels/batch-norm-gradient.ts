import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import { perChannel } from './norm-kernels.js';

/** Name of the kernel computing every FusedBatchNorm gradient in one pass (wasm only). */
export const BATCH_NORM_GRAD_KERNEL = 'EngramFusedBatchNormGrad';

/** tfjs's own FusedBatchNorm gradient while ours is installed. */
let stockGradient: tf.GradConfig | undefined;

/**
 * The {@link BATCH_NORM_GRAD_KERNEL} kernel: inputs x, dy (same shape, channels last) and the
 * per-channel mean, scale, inv = rsqrt(variance + ε), negInv = inv · −1 and minusHalfCube =
 * inv · inv · inv · −0.5; outputs dx, dMean, dVariance, dScale, dOffset. Anything it does not handle
 * goes to `stock` (for this added kernel: an error; the gradient only calls it for handled inputs).
 */
export function batchNormGradKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, dy, mean, scale, inv, negInv, minusHalfCube } = args.inputs as Record<
        string,
        tf.TensorInfo | undefined
      >;
      if (
        !x ||
        !dy ||
        dy.dtype !== 'float32' ||
        !tf.util.arraysEqual(x.shape, dy.shape) ||
        !perChannel(x, mean, scale, inv, negInv, minusHalfCube)
      ) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const inputs = [x, dy, mean, scale, inv, negInv, minusHalfCube].map((t) => (t ? offsetOf(backend, t) : -1));
      if (inputs.some((o) => o < 0)) return stock(args);
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const rows = tf.util.sizeFromShape(x.shape) / cols;
      const dx = backend.makeOutput(x.shape.slice(), 'float32');
      const perChannelOuts = [0, 1, 2, 3].map(() => backend.makeOutput([cols], 'float32'));
      const [xOff = -1, dyOff = -1, meanOff = -1, scaleOff = -1, invOff = -1, negInvOff = -1, mhcOff = -1] = inputs;
      const [dMeanOff = -1, dVarOff = -1, dScaleOff = -1, dOffsetOff = -1] = perChannelOuts.map((t) =>
        offsetOf(backend, t),
      );
      addon.batchNormGrad(
        heapOf(backend),
        xOff,
        dyOff,
        meanOff,
        scaleOff,
        invOff,
        negInvOff,
        mhcOff,
        offsetOf(backend, dx),
        dMeanOff,
        dVarOff,
        dScaleOff,
        dOffsetOff,
        rows,
        cols,
      );
      return [dx, ...perChannelOuts];
    };
}

/** The one-pass kernel applies: wasm active with the kernel, float32, per-channel rank-1 parameters. */
function nativeApplies(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale?: tf.Tensor): boolean {
  const channels = x.shape[x.shape.length - 1];
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(BATCH_NORM_GRAD_KERNEL, 'wasm') !== undefined &&
    scale !== undefined &&
    dy.dtype === 'float32' &&
    tf.util.arraysEqual(dy.shape, x.shape) &&
    [mean, variance, scale].every((t) => t.rank === 1 && t.dtype === 'float32' && t.shape[0] === channels) &&
    perChannel(x, mean, variance, scale)
  );
}

/**
 * Replaces the (global) FusedBatchNorm gradient: on wasm with the native kernels loaded it computes
 * the per-channel factors with tfjs ops exactly as tfjs's gradient does, then dx and the mean,
 * variance, scale and offset gradients in one native pass ({@link BATCH_NORM_GRAD_KERNEL}) instead of
 * about fifteen full-size tfjs ops; the values are tfjs's to the bit (same float32 operations, sums
 * over the leading axes in row order, as the Sum kernel). Everywhere else — the cpu backend,
 * ENGRAM_NATIVE=0, other parameter shapes — tfjs's own gradient runs. The kernel has no gradient of
 * its own: a second-order gradient through batch norm on wasm is not supported with it loaded.
 */
export function installBatchNormGradient(): void {
  const stock = tf.getGradient(tf.FusedBatchNorm);
  if (stockGradient !== undefined || stock === undefined) return;
  stockGradient = stock;
  tf.registerGradient({
    kernelName: tf.FusedBatchNorm,
    inputsToSave: stock.inputsToSave ?? ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const epsilon = (attrs as { varianceEpsilon?: unknown }).varianceEpsilon;
      if (
        Array.isArray(dy) ||
        !x ||
        !mean ||
        !variance ||
        typeof epsilon !== 'number' ||
        !nativeApplies(dy, x, mean, variance, scale)
      ) {
        return stock.gradFunc(dy, saved, attrs);
      }
      // Computed now, outside the per-input scopes tfjs opens for each closure below, so one call
      // serves all five; the unused ones are freed with the rest of the backward pass's tensors.
      const inv = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
      const minusHalfCube = tf.mul(tf.mul(tf.mul(inv, inv), inv), tf.scalar(-0.5));
      const negInv = tf.mul(inv, tf.scalar(-1));
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel<tf.Tensor[]>(BATCH_NORM_GRAD_KERNEL, {
        x,
        dy,
        mean,
        scale: scale as tf.Tensor,
        inv,
        negInv,
        minusHalfCube,
      });
      const shaped = (t: tf.Tensor | undefined): tf.Tensor => {
        if (!t) throw new Error(`${BATCH_NORM_GRAD_KERNEL}: missing output`);
        return t;
      };
      return {
        x: () => shaped(dx),
        mean: () => shaped(dMean),
        variance: () => shaped(dVariance),
        scale: () => shaped(dScale),
        offset: () => shaped(dOffset),
      };
    },
  });
}

/** Puts tfjs's own FusedBatchNorm gradient back. */
export function restoreBatchNormGradient(): void {
  if (stockGradient === undefined) return;
  tf.registerGradient(stockGradient);
  stockGradient = undefined;
}
