import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import { convGeometry } from './conv-kernels.js';

type Pool2DInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

/** computePool2DInfo for an NHWC float32 input, or undefined for cases left to the stock kernel. */
function poolInfo(input: tf.TensorInfo, attrs: tf.NamedAttrMap | undefined): Pool2DInfo | undefined {
  if (input.dtype !== 'float32' || input.shape.length !== 4) return undefined;
  const a = attrs ?? {};
  try {
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a['filterSize'] as number | [number, number],
      a['strides'] as number | [number, number],
      1,
      a['pad'] as 'valid' | 'same' | number,
      a['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    );
    const ok = info.outHeight > 0 && info.outWidth > 0 && info.inChannels === info.outChannels && info.inChannels > 0;
    return ok ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * MaxPool natively (NHWC, OpenMP over output rows): the max of each window, padding excluded and NaN
 * never winning, as the tfjs cpu backend computes it. Other dtypes and shapes go to the stock kernel.
 */
export function maxPoolKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const info = x ? poolInfo(x, args.attrs) : undefined;
      if (!x || !info) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const out = backend.makeOutput(info.outShape.slice(), 'float32');
      addon.maxPool(heapOf(backend), convGeometry(info), xOff, offsetOf(backend, out));
      return out;
    };
}

/**
 * MaxPoolGrad natively (NHWC): each window's gradient goes to its first maximum in `input`, exactly
 * as the tfjs cpu backend decides ties; a 2x2 stride-2 pool takes a write-once fast path.
 * Non-float cases go to the stock kernel.
 */
export function maxPoolGradKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { dy, input } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      if (!dy || !input || dy.dtype !== 'float32') return stock(args);
      const info = poolInfo(input, args.attrs);
      if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, input),
        dyOff = offsetOf(backend, dy);
      if (xOff < 0 || dyOff < 0) return stock(args);
      const out = backend.makeOutput(input.shape.slice(), 'float32');
      addon.maxPoolGrad(heapOf(backend), convGeometry(info), xOff, dyOff, offsetOf(backend, out));
      return out;
    };
}
