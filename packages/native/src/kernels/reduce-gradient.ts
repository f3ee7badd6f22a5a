import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/**
 * Name of the kernel broadcasting a Sum's or Mean's `dy` back over the reduced axes in one pass
 * (wasm only): input `dy`, attributes `shape` (x's), `dyShape`, `axes` (the reduced ones), `outer`, `reduce`, `inner` (x viewed as
 * outer x reduce x inner, the reduced axes in the middle) and `divisor` (Mean: the count; Sum: 0).
 */
export const BROADCAST_GRAD_KERNEL = 'EngramBroadcastGrad';

/** tfjs's own Sum and Mean gradients while ours are installed. */
const stockGradients = new Map<string, tf.GradConfig>();

/** x viewed as outer x reduce x inner around the reduced axes, when they are consecutive. */
interface Split {
  readonly outer: number;
  readonly reduce: number;
  readonly inner: number;
  readonly axes: number[];
}

/** The split of a reduction of `shape` over `axis` (tfjs's attribute), or undefined when its axes are not consecutive. */
export function reductionSplit(shape: readonly number[], axis: unknown): Split | undefined {
  if (shape.length === 0) return undefined;
  const all = shape.map((_, i) => i);
  const given = axis === null || axis === undefined ? all : (axis as number | number[]);
  const axes = tf.util.parseAxisParam(given, shape.slice()).sort((p, q) => p - q);
  const first = axes[0];
  if (first === undefined || axes.some((a, i) => a !== first + i)) return undefined;
  const last = first + axes.length;
  const outer = tf.util.sizeFromShape(shape.slice(0, first));
  const reduce = tf.util.sizeFromShape(shape.slice(first, last));
  const inner = tf.util.sizeFromShape(shape.slice(last));
  if (outer === 0 || reduce === 0 || inner === 0) return undefined;
  return { outer, reduce, inner, axes };
}

/**
 * The {@link BROADCAST_GRAD_KERNEL} kernel: `out[o, r, i] = dy[o, i]` (÷ divisor for Mean), the
 * values of tfjs's `mul(reshape(dy), ones(x.shape))` (÷ count) to the bit — x · 1 is x, and the one
 * float32 division is the same — without the host-filled `ones`. Anything it does not handle goes to
 * `stock` (for this added kernel: an error; the gradients only call it for handled inputs).
 */
export function broadcastGradKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const dy = (args.inputs as { dy?: tf.TensorInfo }).dy;
      const { shape, outer, reduce, inner, divisor } = args.attrs as Record<string, unknown>;
      if (
        !dy ||
        dy.dtype !== 'float32' ||
        !Array.isArray(shape) ||
        typeof outer !== 'number' ||
        typeof reduce !== 'number' ||
        typeof inner !== 'number' ||
        typeof divisor !== 'number' ||
        tf.util.sizeFromShape(dy.shape) !== outer * inner
      ) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const dyOff = offsetOf(backend, dy);
      if (dyOff < 0) return stock(args);
      const out = backend.makeOutput((shape as number[]).slice(), 'float32');
      addon.broadcastRows(heapOf(backend), dyOff, offsetOf(backend, out), outer, reduce, inner, divisor);
      return out;
    };
}

/** The one-pass kernel applies: wasm active with the kernel, float32 x and dy. */
function nativeApplies(dy: tf.Tensor, x: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(BROADCAST_GRAD_KERNEL, 'wasm') !== undefined &&
    dy.dtype === 'float32' &&
    x.dtype === 'float32'
  );
}

/** dy broadcast over x's reduced axes (÷ the count when `mean`), one kernel; differentiable in dy. */
function broadcastGrad(dy: tf.Tensor, x: tf.Tensor, split: Split, mean: boolean): tf.Tensor {
  const { outer, reduce, inner } = split;
  const divisor = mean ? reduce : 0;
  return tf
    .engine()
    .runKernel<tf.Tensor>(
      BROADCAST_GRAD_KERNEL,
      { dy },
      { shape: x.shape, dyShape: dy.shape, outer, reduce, inner, divisor, axes: split.axes },
    );
}

function install(kernelName: typeof tf.Sum | typeof tf.Mean, mean: boolean): void {
  const stock = tf.getGradient(kernelName);
  if (stockGradients.has(kernelName) || stock === undefined) return;
  stockGradients.set(kernelName, stock);
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const split = x ? reductionSplit(x.shape, (attrs as { axis?: unknown }).axis) : undefined;
      if (Array.isArray(dy) || !x || !split || !nativeApplies(dy, x)) return stock.gradFunc(dy, saved, attrs);
      return { x: () => broadcastGrad(dy, x, split, mean) };
    },
  });
}

/**
 * Replaces the (global) Sum and Mean gradients: on wasm with the native kernels loaded, a reduction
 * over consecutive axes (batch norm's moments, global average pooling) gets its gradient from
 * {@link BROADCAST_GRAD_KERNEL} in one pass instead of tfjs's `ones` filled on the host, uploaded,
 * multiplied and (Mean) divided; the values are the same bits. Everywhere else — the cpu backend,
 * ENGRAM_NATIVE=0, other dtypes, reductions over non-consecutive axes — tfjs's own gradients run.
 * The kernel's own gradient (second order) is the stock one's: the sum of (ddx ÷ count) over the axes.
 */
export function installReduceGradients(): void {
  install(tf.Sum, false);
  install(tf.Mean, true);
  if (tf.getGradient(BROADCAST_GRAD_KERNEL) !== undefined) return;
  tf.registerGradient({
    kernelName: BROADCAST_GRAD_KERNEL,
    gradFunc: (ddx, _saved, attrs) => {
      const { axes, divisor, dyShape } = attrs as unknown as { axes: number[]; divisor: number; dyShape: number[] };
      if (Array.isArray(ddx)) throw new Error(`${BROADCAST_GRAD_KERNEL} gradient: one output expected`);
      return {
        dy: () => {
          const scaled = divisor !== 0 ? tf.div(ddx, divisor) : ddx;
          return tf.reshape(tf.sum(scaled, axes), dyShape);
        },
      };
    },
  });
}

/** Puts tfjs's own Sum and Mean gradients back. */
export function restoreReduceGradients(): void {
  for (const config of stockGradients.values()) tf.registerGradient(config);
  stockGradients.clear();
}
