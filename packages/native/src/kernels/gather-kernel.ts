import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, int32OffsetOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many output values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/**
 * GatherV2 natively for float32 values and int32 indices without batch dimensions (an embedding's
 * lookup: the GRU bench's [1000, 64] table at 128 × 32 tokens took 13–20 ms per step in the stock
 * kernel's per-element stride loop): one memcpy per gathered slice, OpenMP over blocks. A copy: the
 * values are the same bits. Indices are checked first; an index outside the axis, `batchDims`, other
 * dtypes and small outputs go to the stock kernel (which throws its own error for a bad index).
 */
export function gatherKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, indices } = args.inputs as { x?: tf.TensorInfo; indices?: tf.TensorInfo };
      const { axis, batchDims } = args.attrs as { axis?: number; batchDims?: number };
      if (!x || !indices || x.dtype !== 'float32' || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0) {
        return stock(args);
      }
      const parsed = tf.util.parseAxisParam(axis ?? 0, x.shape)[0] ?? 0;
      const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsed, 0);
      const n = tf.util.sizeFromShape(indices.shape);
      if (n === 0 || info.sliceSize === 0 || info.outerSize * n * info.sliceSize < MIN_NATIVE_SIZE) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x),
        indicesOff = int32OffsetOf(backend, indices);
      if (xOff < 0 || indicesOff < 0) return stock(args);
      const ids = new Int32Array(heapOf(backend), indicesOff, n);
      for (let i = 0; i < n; i++) {
        const id = ids[i] ?? -1;
        if (id < 0 || id >= info.dimSize) return stock(args);
      }
      const out = backend.makeOutput(info.outputShape, 'float32');
      addon.gather(
        heapOf(backend),
        xOff,
        indicesOff,
        offsetOf(backend, out),
        info.outerSize,
        info.dimSize,
        info.sliceSize,
        n,
      );
      return out;
    };
}
