import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many input values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/** The per-channel inputs of a FusedBatchNorm the native kernel handles (each of the channel count). */
export function perChannel(x: tf.TensorInfo, ...params: Array<tf.TensorInfo | undefined>): boolean {
  const channels = x.shape[x.shape.length - 1];
  return (
    x.dtype === 'float32' &&
    x.shape.length >= 1 &&
    params.every((p) => p !== undefined && p.dtype === 'float32' && tf.util.sizeFromShape(p.shape) === channels)
  );
}

/**
 * `FusedBatchNorm` natively when mean, variance, offset and scale are all per-channel (batch norm over
 * the last axis, as tfjs-layers' BatchNormalization): wasm's formula and operation order
 * (`offset + (x − mean) · scale / sqrt(variance + ε)`), OpenMP over rows. Anything else — no offset or
 * scale, other broadcasts, small tensors — goes to the stock kernel.
 */
export function batchNormKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const epsilon = args.attrs?.['varianceEpsilon'];
      if (
        !x ||
        !mean ||
        !variance ||
        !offset ||
        !scale ||
        typeof epsilon !== 'number' ||
        tf.util.sizeFromShape(x.shape) < MIN_NATIVE_SIZE ||
        !perChannel(x, mean, variance, offset, scale)
      ) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const offs = [x, mean, variance, offset, scale].map((t) => offsetOf(backend, t));
      if (offs.some((o) => o < 0)) return stock(args);
      const [xOff = -1, meanOff = -1, varOff = -1, offsetOff = -1, scaleOff = -1] = offs;
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      const rows = tf.util.sizeFromShape(x.shape) / cols;
      addon.batchNorm(
        heapOf(backend),
        xOff,
        meanOff,
        varOff,
        offsetOff,
        scaleOff,
        epsilon,
        offsetOf(backend, out),
        rows,
        cols,
      );
      return out;
    };
}
