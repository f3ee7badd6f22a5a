import * as tf from '@tensorflow/tfjs';
import type { GradConfig, Tensor } from '@tensorflow/tfjs';

type NamedGradientMap = ReturnType<GradConfig['gradFunc']>;

/*
 * tfjs 4.22's BatchMatMul gradient ignores batch broadcasting: for a [2,3,4] x [4,5]
 * product it returns a [2,4,5] gradient for the [4,5] operand and the engine throws
 * ("gradient of input 'b' has shape 2,4,5 ..."), on every backend. This wrapper keeps
 * the stock gradient and sums the broadcast axes away, as tf.add's gradient does.
 * Transpose flags are not touched here: the wasm BatchMatMul kernel wrapper
 * (wasm-matmul.kernel.ts) materialises them for every caller.
 */

function reduceTo(grad: Tensor, shape: number[]): Tensor {
  if (tf.util.arraysEqual(grad.shape, shape)) return grad;
  const axes = tf.backend_util.getReductionAxes(shape, grad.shape);
  const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(summed, shape);
}

/**
 * Wraps tfjs' BatchMatMul gradient so batch-broadcast operands get gradients of their
 * own shape. Built once by `registerWasmGradients()` from the stock config (the
 * registry is global, so this also fixes cpu/tensorflow; non-broadcast products are
 * computed exactly as before).
 */
export function broadcastSafeMatMulGradient(stock: GradConfig): GradConfig {
  return {
    ...stock,
    gradFunc: (dy, saved, attrs): NamedGradientMap => {
      const grads = stock.gradFunc(dy, saved, attrs);
      const [a, b] = saved;
      const out: NamedGradientMap = {};
      for (const [name, input] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const g = grads[name];
        if (g === undefined || input === undefined) continue;
        out[name] = () => reduceTo(g(), input.shape);
      }
      return out;
    },
  };
}
