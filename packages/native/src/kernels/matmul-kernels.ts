import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Fused activations the native epilogue computes (codes shared with csrc/engram-native.cc). */
export const ACTIVATIONS: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  sigmoid: 4,
  elu: 5,
};

/** A fused kernel's `activation` attribute as a name: tfjs leaves it out for a linear epilogue. */
export function activationName(attr: unknown): string {
  return typeof attr === 'string' ? attr : 'linear';
}

interface MatMulPlan {
  readonly outShape: number[];
  readonly batch: number;
  readonly aStride: number;
  readonly bStride: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** Shapes of a (batched, broadcast) matmul, or undefined for cases left to the stock kernel. */
export function planMatMul(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return undefined;
  const a0 = a.shape[ra - 2] ?? 0,
    a1 = a.shape[ra - 1] ?? 0,
    b0 = b.shape[rb - 2] ?? 0,
    b1 = b.shape[rb - 1] ?? 0;
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb || m === 0 || n === 0 || k === 0) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = product(outer),
    batchA = product(outerA),
    batchB = product(outerB);
  // Either side is one matrix (broadcast) or the full batch; mixed broadcasts go to the stock kernel.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  const aStride = batchA === 1 ? 0 : m * k,
    bStride = batchB === 1 ? 0 : k * n;
  return { outShape: [...outer, m, n], batch, aStride, bStride, m, n, k };
}

function runMatMul(
  addon: NativeAddon,
  backendArg: unknown,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  plan: MatMulPlan,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.TensorInfo | undefined,
  activation: number,
  alpha: number,
): tf.TensorInfo | undefined {
  const backend = asWasmBackend(backendArg);
  const aOff = offsetOf(backend, a),
    bOff = offsetOf(backend, b);
  const biasOff = bias ? offsetOf(backend, bias) : -1;
  if (aOff < 0 || bOff < 0 || (bias && biasOff < 0)) return undefined;
  const out = backend.makeOutput(plan.outShape, 'float32');
  // Read the heap only now: makeOutput may have grown (and replaced) it.
  addon.matmul(
    heapOf(backend),
    aOff,
    bOff,
    offsetOf(backend, out),
    plan.batch,
    plan.aStride,
    plan.bStride,
    plan.m,
    plan.n,
    plan.k,
    transposeA,
    transposeB,
    biasOff,
    bias ? tf.util.sizeFromShape(bias.shape) : 0,
    activation,
    alpha,
  );
  return out;
}

/** BatchMatMul via cblas_sgemm on the wasm heap, for every transpose flag and batch broadcast. */
export function batchMatMulKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { a, b } = args.inputs as { a?: tf.TensorInfo; b?: tf.TensorInfo };
      const transposeA = args.attrs?.['transposeA'] === true,
        transposeB = args.attrs?.['transposeB'] === true;
      const plan = a && b ? planMatMul(a, b, transposeA, transposeB) : undefined;
      const out =
        a && b && plan
          ? runMatMul(addon, args.backend, a, b, plan, transposeA, transposeB, undefined, 0, 0)
          : undefined;
      return out ?? stock(args);
    };
}

function biasFits(bias: tf.TensorInfo, n: number): boolean {
  if (bias.dtype !== 'float32') return false;
  const size = tf.util.sizeFromShape(bias.shape);
  if (size === 1) return true;
  return size === n && bias.shape[bias.shape.length - 1] === n;
}

/** _FusedMatMul (matmul + bias + activation) via cblas_sgemm plus a native epilogue; prelu → stock. */
export function fusedMatMulKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const inputs = args.inputs as {
        a?: tf.TensorInfo;
        b?: tf.TensorInfo;
        bias?: tf.TensorInfo;
        preluActivationWeights?: tf.TensorInfo;
      };
      const { a, b, bias, preluActivationWeights } = inputs;
      const attrs = args.attrs ?? {};
      const transposeA = attrs['transposeA'] === true,
        transposeB = attrs['transposeB'] === true;
      const activation = ACTIVATIONS[activationName(attrs['activation'])];
      const alphaAttr = attrs['leakyreluAlpha'];
      const alpha = typeof alphaAttr === 'number' ? alphaAttr : 0.2;
      if (!a || !b || preluActivationWeights != null || activation === undefined) return stock(args);
      const plan = planMatMul(a, b, transposeA, transposeB);
      if (!plan || (bias != null && !biasFits(bias, plan.n))) return stock(args);
      const out = runMatMul(
        addon,
        args.backend,
        a,
        b,
        plan,
        transposeA,
        transposeB,
        bias ?? undefined,
        activation,
        alpha,
      );
      return out ?? stock(args);
    };
}
