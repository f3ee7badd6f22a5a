import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { wasmConvKernels } from './wasm-conv.kernel.js';
import { wasmEinsumKernels } from './wasm-einsum.kernel.js';
import { wasmGatherKernels } from './wasm-gather.kernel.js';
import { broadcastSafeMatMulGradient } from './wasm-matmul.gradient.js';
import { wasmMatMulKernels } from './wasm-matmul.kernel.js';
import { wasmPoolKernels } from './wasm-pool.kernel.js';
import { wasmSegmentKernels } from './wasm-segment.kernel.js';

/*
 * Design §4: wasm training needs (1) flag-free matMuls for XNNPACK speed, (2) the conv
 * gradient kernels wasm lacks, (3) fallbacks for other missing kernels, and here also
 * (4) a correct MaxPoolGrad. tfjs' gradient registry is global (shared by every
 * backend), so all of this is done as *wasm kernel* registrations: cpu and tensorflow
 * keep their stock kernels, and every path (tf.grad, optimizers, layers' fused ops,
 * direct op calls) benefits. The one global change is the BatchMatMul gradient's
 * broadcast fix (wasm-matmul.gradient.ts), a no-op for non-broadcast shapes.
 */

/** Marks kernel functions registered by Engram so a second call is a no-op. */
const MARK = Symbol.for('engram.wasm-kernel');

type Marked = { [MARK]?: true };

function isEngramKernel(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as Marked)[MARK] === true;
}

function isEngramGradient(config: GradConfig | undefined): boolean {
  return config !== undefined && (config.gradFunc as Marked)[MARK] === true;
}

function installMatMulGradient(): void {
  const stock = tf.getGradient(tf.BatchMatMul);
  if (stock === undefined || isEngramGradient(stock)) return;
  const config = broadcastSafeMatMulGradient(stock);
  (config.gradFunc as Marked)[MARK] = true;
  tf.registerGradient(config);
}

function install(config: KernelConfig): void {
  // A kernel marked as Engram's is ours, or a wrapper around ours (the native kernels carry the mark
  // over when they wrap one), so a second call never re-wraps it — also from a second copy of this
  // module, since the mark is a registered symbol.
  const existing = tf.getKernel(config.kernelName, 'wasm');
  if (isEngramKernel(existing)) return;
  (config.kernelFunc as Marked)[MARK] = true;
  if (existing !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/** Names of the kernels {@link registerWasmGradients} installs or replaces on wasm. */
export const WASM_REWRITTEN_KERNELS: readonly string[] = [
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.MaxPoolGrad,
  tf.UnsortedSegmentSum,
  tf.Einsum,
  tf.GatherV2,
];

/**
 * Makes training on the tfjs wasm backend fast and complete: wraps wasm's
 * `BatchMatMul` / `_FusedMatMul` so transposes are materialised and XNNPACK runs
 * (~4x faster MLP training), and registers wasm kernels for `Conv2DBackpropFilter`,
 * `Conv2DBackpropInput`, the depthwise backprops, `MaxPoolGrad` (stock one is wrong),
 * `UnsortedSegmentSum` and `Einsum`, and replaces `GatherV2` (a block copy per index instead of wasm's
 * per-element loop). Also wraps the (global) BatchMatMul gradient so
 * batch-broadcast matMuls can be differentiated at all.
 *
 * Called by the backend selector right after `tf.setBackend('wasm')` succeeded (any
 * time after '@tensorflow/tfjs-backend-wasm' is imported works; before that it does
 * nothing). Idempotent: later calls, including from a second copy of this module, do
 * nothing, and kernels other packages wrapped around ours afterwards are left alone.
 */
export function registerWasmGradients(): void {
  // Before '@tensorflow/tfjs-backend-wasm' is imported its kernels are not registered;
  // installing now would be overwritten by that import, so wait for the next call.
  if (tf.getKernel(tf.Conv2D, 'wasm') === undefined) return;
  const originals = [tf.BatchMatMul, tf._FusedMatMul]
    .map((name) => tf.getKernel(name, 'wasm'))
    .filter((c): c is KernelConfig => c !== undefined && !isEngramKernel(c));
  const gather = tf.getKernel(tf.GatherV2, 'wasm');
  const configs = [
    ...wasmMatMulKernels(originals),
    ...wasmGatherKernels(gather !== undefined && !isEngramKernel(gather) ? gather : undefined),
    ...wasmConvKernels(),
    ...wasmPoolKernels(),
    ...wasmSegmentKernels(),
    ...wasmEinsumKernels(),
  ];
  for (const config of configs) install(config);
  installMatMulGradient();
}
