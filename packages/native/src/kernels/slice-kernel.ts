import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many output values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/** The largest rank the native slice handles (the addon's limit). */
const MAX_RANK = 8;

/**
 * Slice natively for large float32 tensors that are not one contiguous range: each row of the output
 * (the trailing axes taken whole merged into one run) is one memcpy, OpenMP over blocks of rows. The
 * stock wasm kernel copies a typed-array view per innermost row in JavaScript (4 ms for zero padding's
 * gradient on the reduced ResNet-18's first stage, [32, 34, 34, 20] → [32, 32, 32, 20]). A copy: the
 * values are the same bits. Contiguous slices (one subarray copy already), small, other-dtype or
 * rank > 8 slices go to the stock kernel.
 */
export function sliceKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      const { begin, size } = args.attrs as { begin?: number | number[]; size?: number | number[] };
      if (!x || x.dtype !== 'float32' || x.shape.length === 0 || x.shape.length > MAX_RANK || begin === undefined) {
        return stock(args);
      }
      const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
      if (!b || !s || tf.util.sizeFromShape(s) < MIN_NATIVE_SIZE || tf.slice_util.isSliceContinous(x.shape, b, s)) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const out = backend.makeOutput(s, 'float32');
      const geometry = Int32Array.from([x.shape.length, ...x.shape, ...b, ...s]);
      addon.slice(heapOf(backend), geometry, xOff, offsetOf(backend, out));
      return out;
    };
}
