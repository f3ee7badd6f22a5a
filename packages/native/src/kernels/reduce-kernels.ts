import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Below this many input values the stock wasm kernel is as fast as a native call. */
const MIN_NATIVE_SIZE = 4096;

/** A reduction over a block of consecutive axes: x viewed as outer x reduce x inner. */
interface ReducePlan {
  readonly outer: number;
  readonly reduce: number;
  readonly inner: number;
  readonly outShape: number[];
}

/**
 * The plan of `Sum`/`Mean` over `axis` when the reduced axes are consecutive (batch norm's moments
 * reduce [0, 1, 2] of NHWC, global average pooling [1, 2]); undefined for other reductions.
 */
export function reducePlan(x: tf.TensorInfo, attrs: tf.NamedAttrMap | undefined): ReducePlan | undefined {
  if (x.dtype !== 'float32' || x.shape.length === 0) return undefined;
  const axisAttr = attrs?.['axis'] as number | number[] | null | undefined;
  const axes = tf.util.parseAxisParam(axisAttr ?? x.shape.map((_, i) => i), x.shape).sort((p, q) => p - q);
  const first = axes[0];
  if (first === undefined || axes.some((axis, i) => axis !== first + i)) return undefined;
  const last = first + axes.length;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const reduce = tf.util.sizeFromShape(x.shape.slice(first, last));
  const inner = tf.util.sizeFromShape(x.shape.slice(last));
  if (outer === 0 || reduce === 0 || inner === 0) return undefined;
  const outShape =
    attrs?.['keepDims'] === true
      ? x.shape.map((d, i) => (i >= first && i < last ? 1 : d))
      : x.shape.filter((_, i) => i < first || i >= last);
  return { outer, reduce, inner, outShape };
}

/**
 * `Sum` (`mean` false) or `Mean` (true) over consecutive axes natively: every output summed over its
 * inputs in order — the order of tfjs-backend-wasm's kernels, which move the reduced axes innermost and
 * add them up one by one — then, for Mean, divided by the count once; OpenMP over outputs. Other
 * reductions (and, for Mean, small ones) go to the stock kernel.
 */
export function reduceKernel(addon: NativeAddon, mean: boolean) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      const plan = x ? reducePlan(x, args.attrs) : undefined;
      if (!x || !plan || (mean && tf.util.sizeFromShape(x.shape) < MIN_NATIVE_SIZE)) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x);
      if (xOff < 0) return stock(args);
      const out = backend.makeOutput(plan.outShape, 'float32');
      addon.reduceMiddle(heapOf(backend), xOff, offsetOf(backend, out), plan.outer, plan.reduce, plan.inner, mean);
      return out;
    };
}

/** `Sum` over consecutive axes natively ({@link reduceKernel}); the bias gradient sums the leading ones. */
export function sumKernel(addon: NativeAddon) {
  return reduceKernel(addon, false);
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
