import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many output values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/** Name of the kernel computing tfjs's relu gradient `dy · step(x)` in one pass (wasm only). */
export const RELU_GRAD_KERNEL = 'EngramReluGrad';

/** How `big + small` runs natively: `rows` x `cols`, small repeated per row (rows 1: same shape). */
interface AddPlan {
  readonly big: tf.TensorInfo;
  readonly small: tf.TensorInfo;
  readonly rows: number;
  readonly cols: number;
}

/** `small` is a bias of `big`: its shape is `[…1, C]` with C = big's last dim and rank ≤ big's. */
function isBias(small: number[], big: number[]): boolean {
  const c = big[big.length - 1];
  return (
    small.length >= 1 &&
    small.length <= big.length &&
    small[small.length - 1] === c &&
    small.slice(0, -1).every((d) => d === 1)
  );
}

function addPlan(a: tf.TensorInfo, b: tf.TensorInfo): AddPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const sizeA = tf.util.sizeFromShape(a.shape),
    sizeB = tf.util.sizeFromShape(b.shape);
  if (Math.max(sizeA, sizeB) < MIN_NATIVE_SIZE) return undefined;
  if (tf.util.arraysEqual(a.shape, b.shape)) return { big: a, small: b, rows: 1, cols: sizeA };
  const [big, small] = sizeA >= sizeB ? [a, b] : [b, a];
  if (big.shape.length === 0 || !isBias(small.shape, big.shape)) return undefined;
  const cols = big.shape[big.shape.length - 1] ?? 1;
  return { big, small, rows: tf.util.sizeFromShape(big.shape) / cols, cols };
}

/**
 * Add natively for the large float32 cases around layers: same-shape adds and a bias broadcast over
 * the last axis (a conv's or dense layer's `y + b` under a gradient tape), OpenMP over blocks of rows.
 * Float addition commutes exactly, so which side is the bias does not change a bit. Other cases
 * (other broadcasts, small or integer tensors) go to the stock kernel.
 */
export function addKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { a, b } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const plan = a && b ? addPlan(a, b) : undefined;
      if (!plan) return stock(args);
      const backend = asWasmBackend(args.backend);
      const bigOff = offsetOf(backend, plan.big),
        smallOff = offsetOf(backend, plan.small);
      if (bigOff < 0 || smallOff < 0) return stock(args);
      const out = backend.makeOutput(plan.big.shape.slice(), 'float32');
      addon.biasAdd(heapOf(backend), bigOff, smallOff, offsetOf(backend, out), plan.rows, plan.cols);
      return out;
    };
}

/**
 * The {@link RELU_GRAD_KERNEL} kernel: `dy · step(x)` for same-shape float32 `dy` and `x` in one
 * pass (tfjs runs Step, Cast and Multiply, three passes and two temporaries). Anything else goes to
 * `stock` (for this added kernel: an error; the relu gradient only calls it for handled inputs).
 */
export function reluGradKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { dy, x } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      if (!dy || !x || dy.dtype !== 'float32' || x.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const dyOff = offsetOf(backend, dy),
        xOff = offsetOf(backend, x);
      if (dyOff < 0 || xOff < 0) return stock(args);
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      addon.reluGrad(heapOf(backend), dyOff, xOff, offsetOf(backend, out), tf.util.sizeFromShape(x.shape));
      return out;
    };
}

/**
 * Relu natively for large float32 tensors (OpenMP over blocks; wasm's is single-threaded), with the
 * tfjs cpu backend's values (`Math.max(0, x)`: NaN stays NaN); small or integer tensors go to stock.
 */
export function reluKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      if (!x || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) < MIN_NATIVE_SIZE) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      addon.relu(heapOf(backend), xOff, offsetOf(backend, out), tf.util.sizeFromShape(x.shape));
      return out;
    };
}
