import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD_KERNEL } from './elementwise-kernels.js';

/** tfjs's own Relu gradient while ours is installed. */
let stockGradient: tf.GradConfig | undefined;

function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(RELU_GRAD_KERNEL, { dy, x });
}

/** The one-pass kernel applies: wasm is the active backend, it has the kernel, float32 same shapes. */
function nativeApplies(dy: tf.Tensor, x: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(RELU_GRAD_KERNEL, 'wasm') !== undefined &&
    dy.dtype === 'float32' &&
    x.dtype === 'float32' &&
    tf.util.arraysEqual(dy.shape, x.shape)
  );
}

/**
 * Replaces the (global) Relu gradient: on wasm with the native kernels loaded it runs
 * {@link RELU_GRAD_KERNEL} (`dy · step(x)` in one pass, same values as tfjs's
 * `mul(dy, cast(step(x)))`); everywhere else it calls tfjs's own gradient, so the cpu backend and
 * ENGRAM_NATIVE=0 are unchanged. The kernel is differentiable too (second-order gradients).
 */
export function installReluGradient(): void {
  const stock = tf.getGradient(tf.Relu);
  if (stockGradient !== undefined || stock === undefined) return;
  stockGradient = stock;
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (Array.isArray(dy) || x === undefined || !nativeApplies(dy, x)) return stock.gradFunc(dy, saved, attrs);
      return { x: () => reluGrad(dy, x) };
    },
  });
  tf.registerGradient({
    kernelName: RELU_GRAD_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved;
      if (Array.isArray(ddx) || x === undefined) throw new Error(`${RELU_GRAD_KERNEL} gradient: missing input`);
      return { dy: () => reluGrad(ddx, x), x: () => tf.zerosLike(x) };
    },
  });
}

/** Puts tfjs's own Relu gradient back. */
export function restoreReluGradient(): void {
  if (stockGradient === undefined) return;
  tf.registerGradient(stockGradient);
  stockGradient = undefined;
}
