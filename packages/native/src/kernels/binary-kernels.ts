import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many output values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/** The addon's binary operations (csrc/elementwise-kernels.h `BinaryOp`). */
export const BINARY_OP = { add: 0, sub: 1, mul: 2, div: 3, squaredDifference: 4 } as const;

/** An operand's layout against the output (csrc/elementwise-kernels.h `Broadcast`). */
const FULL = 0,
  ROW = 1,
  SCALAR = 2;

/** How `op(a, b)` runs natively: a rows x cols output, each operand full, one repeated row, or one value. */
interface BinaryPlan {
  readonly outShape: number[];
  readonly aMode: number;
  readonly bMode: number;
  readonly rows: number;
  readonly cols: number;
}

/** `small` broadcasts as one row of `out`: shape `[…1, C]` with C = out's last dim, rank ≤ out's. */
function isRow(small: number[], out: number[]): boolean {
  return (
    small.length >= 1 &&
    small.length <= out.length &&
    small[small.length - 1] === out[out.length - 1] &&
    small.slice(0, -1).every((d) => d === 1)
  );
}

function modeOf(shape: number[], outShape: number[]): number | undefined {
  if (tf.util.arraysEqual(shape, outShape)) return FULL;
  if (tf.util.sizeFromShape(shape) === 1 && shape.length <= outShape.length) return SCALAR;
  return isRow(shape, outShape) ? ROW : undefined;
}

/**
 * The native layout of a float32 binary operation whose output is as large as one of its operands,
 * the other being the same shape, a bias over the last axis or a single value; undefined otherwise.
 */
export function binaryPlan(a: tf.TensorInfo, b: tf.TensorInfo): BinaryPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  let outShape: number[];
  try {
    outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    return undefined;
  }
  const size = tf.util.sizeFromShape(outShape);
  if (outShape.length === 0 || size < MIN_NATIVE_SIZE) return undefined;
  const aMode = modeOf(a.shape, outShape),
    bMode = modeOf(b.shape, outShape);
  if (aMode === undefined || bMode === undefined || (aMode !== FULL && bMode !== FULL)) return undefined;
  const cols = outShape[outShape.length - 1] ?? 1;
  return { outShape, aMode, bMode, rows: size / cols, cols };
}

/**
 * A float32 binary kernel (`Sub`, `Multiply`, `RealDiv`, `SquaredDifference`) natively for the large
 * cases around batch norm: same shapes, a per-channel operand on either side, a scalar; OpenMP over
 * blocks. One float32 operation per value, as tfjs-backend-wasm's, so the values are the same to the
 * bit. Other broadcasts, small and integer tensors go to the stock kernel.
 */
export function binaryKernel(addon: NativeAddon, op: number) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { a, b } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const plan = a && b ? binaryPlan(a, b) : undefined;
      if (!a || !b || !plan) return stock(args);
      const backend = asWasmBackend(args.backend);
      const aOff = offsetOf(backend, a),
        bOff = offsetOf(backend, b);
      if (aOff < 0 || bOff < 0) return stock(args);
      const out = backend.makeOutput(plan.outShape, 'float32');
      addon.binary(
        heapOf(backend),
        op,
        aOff,
        plan.aMode,
        bOff,
        plan.bMode,
        offsetOf(backend, out),
        plan.rows,
        plan.cols,
      );
      return out;
    };
}

/** `Square` natively for large float32 tensors: `x · x`, as wasm's. */
export function squareKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const size = x ? tf.util.sizeFromShape(x.shape) : 0;
      if (!x || x.dtype !== 'float32' || size < MIN_NATIVE_SIZE) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      addon.binary(heapOf(backend), BINARY_OP.mul, xOff, FULL, xOff, FULL, offsetOf(backend, out), 1, size);
      return out;
    };
}

/**
 * `Cast` to the dtype a tensor already has (tfjs's moments and Square gradient cast float32 to
 * float32) without a copy: the output shares the input's buffer, as the no-copy Identity. Real
 * conversions go to the stock kernel.
 */
export function castKernel() {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      if (!x || x.dtype === 'string' || x.dtype === 'complex64' || args.attrs?.['dtype'] !== x.dtype)
        return stock(args);
      asWasmBackend(args.backend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    };
}
