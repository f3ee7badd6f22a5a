import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/**
 * Sum over the leading axes (the bias gradient: `sum(dy, [0, …])`) as native column sums, summed
 * in row order so it is deterministic; any other reduction goes to the stock kernel.
 */
export function sumKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      if (!x || x.dtype !== 'float32' || x.shape.length === 0) return stock(args);
      const axisAttr = args.attrs?.['axis'] as number | number[] | null | undefined;
      const axes = tf.util.parseAxisParam(axisAttr ?? x.shape.map((_, i) => i), x.shape).sort((p, q) => p - q);
      if (axes.length === 0 || axes.some((axis, i) => axis !== i)) return stock(args);
      const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
      const kept = x.shape.slice(axes.length);
      const cols = tf.util.sizeFromShape(kept);
      if (rows === 0 || cols === 0) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const outShape = args.attrs?.['keepDims'] === true ? [...axes.map(() => 1), ...kept] : kept;
      const out = backend.makeOutput(outShape, 'float32');
      addon.colSum(heapOf(backend), xOff, offsetOf(backend, out), rows, cols);
      return out;
    };
}

/** Identity without a copy: the output shares the input's buffer (reference counted, like Reshape). */
export function identityKernel() {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      if (!x || x.dtype === 'string') return stock(args);
      asWasmBackend(args.backend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    };
}
