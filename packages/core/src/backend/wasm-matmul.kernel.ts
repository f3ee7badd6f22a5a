import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { runInWasmScope, type WasmKernelScope } from './wasm-kernel-scope.js';

/*
 * wasm's BatchMatMul/_FusedMatMul run XNNPACK only when neither transpose flag is set;
 * with a flag they fall into a naive loop (~4x slower training). tfjs' stock gradients
 * (BatchMatMul's and the fused matMul's customGrad) always pass flags. Instead of
 * replacing the backend-agnostic gradient registry, these wrappers rewrite the
 * *wasm kernels*: transposes are materialised with wasm's Transpose kernel and the
 * original kernel is called without flags. That covers every caller (stock gradients,
 * fused-layer customGrads, user code) and leaves cpu/tensorflow untouched.
 */

function outerDims(x: TensorInfo): number[] {
  return x.shape.slice(0, -2);
}

function size(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function leftPad(dims: number[], rank: number): number[] {
  return [...new Array<number>(rank - dims.length).fill(1), ...dims];
}

/** True when wasm's kernel handles the batch dims itself (equal, or one side has batch 1). */
function batchDimsSupported(a: TensorInfo, b: TensorInfo): boolean {
  const oa = outerDims(a),
    ob = outerDims(b);
  if (size(oa) === 1 || size(ob) === 1) return true;
  const r = Math.max(oa.length, ob.length);
  const pa = leftPad(oa, r),
    pb = leftPad(ob, r);
  return pa.every((d, i) => d === pb[i]);
}

/** Tiles `x` so its batch dims equal `target` (both at the same rank). */
function tileBatch(scope: WasmKernelScope, x: TensorInfo, target: number[]): TensorInfo {
  const inner = x.shape.slice(-2);
  const padded = leftPad(outerDims(x), target.length);
  const reshaped = scope.reshape(x, [...padded, ...inner]);
  if (padded.every((d, i) => d === target[i])) return reshaped;
  const reps = [...padded.map((d, i) => (target[i] ?? d) / d), 1, 1];
  return scope.run('Tile', { x: reshaped }, { reps });
}

function flag(attrs: NamedAttrMap | undefined, name: string): boolean {
  return attrs?.[name] === true;
}

/**
 * Prepares `a`, `b` for a flag-free wasm matMul: transposes flagged operands and
 * tiles batch dims wasm cannot broadcast. Returns the operands to use.
 */
function prepareOperands(
  scope: WasmKernelScope,
  a: TensorInfo,
  b: TensorInfo,
  attrs: NamedAttrMap | undefined,
): [TensorInfo, TensorInfo] {
  let a2 = flag(attrs, 'transposeA') ? scope.transposeInner(a) : a;
  let b2 = flag(attrs, 'transposeB') ? scope.transposeInner(b) : b;
  if (!batchDimsSupported(a2, b2)) {
    const target = tf.backend_util.assertAndGetBroadcastShape(outerDims(a2), outerDims(b2));
    a2 = tileBatch(scope, a2, target);
    b2 = tileBatch(scope, b2, target);
  }
  return [a2, b2];
}

function wrapMatMul(original: KernelConfig): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    if (a === undefined || b === undefined) throw new Error(`${original.kernelName}: missing input a or b`);
    if (!flag(attrs, 'transposeA') && !flag(attrs, 'transposeB') && batchDimsSupported(a, b)) {
      return original.kernelFunc(args);
    }
    return runInWasmScope(backend, (scope) => {
      const [a2, b2] = prepareOperands(scope, a, b, attrs);
      const out = original.kernelFunc({
        inputs: { ...inputs, a: a2, b: b2 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      if (Array.isArray(out)) throw new Error(`${original.kernelName} returned several outputs`);
      return scope.track(out);
    });
  };
}

/**
 * Builds the replacement configs for wasm's `BatchMatMul` and `_FusedMatMul`
 * (transpose flags materialised, unsupported batch broadcasts tiled). Called once by
 * `registerWasmGradients()` with the original wasm kernel configs.
 */
export function wasmMatMulKernels(originals: KernelConfig[]): KernelConfig[] {
  return originals.map((original) => ({ ...original, kernelFunc: wrapMatMul(original) }));
}
