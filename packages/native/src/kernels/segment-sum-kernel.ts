import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, int32OffsetOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many input values the JS kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/**
 * UnsortedSegmentSum natively for float32 values and int32 ids (the gradient of an embedding's lookup:
 * 4,096 rows of 64 added into a [1000, 64] table per GRU bench step, 1.6 ms in core's JS scatter-add):
 * rows added in order, as core's wasm kernel (tfjs-backend-wasm has none) adds them, so the same bits —
 * a float32 add equals JavaScript's float64 add of two float32 values rounded back. Ids outside
 * [0, numSegments) are dropped, as there. Other dtypes, ids that do not prefix x's shape and small
 * inputs go to the kernel registered before (core's).
 */
export function segmentSumKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, segmentIds } = args.inputs as { x?: tf.TensorInfo; segmentIds?: tf.TensorInfo };
      const segments = (args.attrs as { numSegments?: unknown }).numSegments;
      if (
        !x ||
        !segmentIds ||
        x.dtype !== 'float32' ||
        segmentIds.dtype !== 'int32' ||
        typeof segments !== 'number' ||
        !Number.isInteger(segments) ||
        segments < 1 ||
        !segmentIds.shape.every((d, i) => d === x.shape[i]) ||
        tf.util.sizeFromShape(x.shape) < MIN_NATIVE_SIZE
      ) {
        return stock(args);
      }
      const rows = tf.util.sizeFromShape(segmentIds.shape);
      const inner = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x),
        idsOff = int32OffsetOf(backend, segmentIds);
      if (rows === 0 || inner === 0 || xOff < 0 || idsOff < 0) return stock(args);
      const out = backend.makeOutput([segments, ...x.shape.slice(segmentIds.shape.length)], 'float32');
      addon.segmentSum(heapOf(backend), xOff, idsOff, offsetOf(backend, out), rows, inner, segments);
      return out;
    };
}
