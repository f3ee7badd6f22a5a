import * as tf from '@tensorflow/tfjs';
import { loadAddon, type BlasStatus } from './addon/native-addon.js';
import { replaceKernel, restoreKernels, replacedKernels } from './kernels/kernel-registry.js';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel, conv2dKernel } from './kernels/conv-kernels.js';
import { addKernel, reluGradKernel, reluKernel, RELU_GRAD_KERNEL } from './kernels/elementwise-kernels.js';
import { maxPoolGradKernel, maxPoolKernel } from './kernels/pool-kernels.js';
import {
  GRU_SEQUENCE_GRAD_KERNEL,
  GRU_SEQUENCE_KERNEL,
  gruSequenceGradKernel,
  gruSequenceKernel,
} from './kernels/gru-kernels.js';
import { installReluGradient, restoreReluGradient } from './kernels/relu-gradient.js';
import { batchMatMulKernel, fusedMatMulKernel } from './kernels/matmul-kernels.js';
import { identityKernel, reduceKernel, sumKernel } from './kernels/reduce-kernels.js';
import { BINARY_OP, binaryKernel, castKernel, squareKernel } from './kernels/binary-kernels.js';
import { batchNormKernel } from './kernels/norm-kernels.js';
import { sliceKernel } from './kernels/slice-kernel.js';
import { segmentSumKernel } from './kernels/segment-sum-kernel.js';
import {
  BATCH_NORM_GRAD_KERNEL,
  batchNormGradKernel,
  installBatchNormGradient,
  restoreBatchNormGradient,
} from './kernels/batch-norm-gradient.js';
import {
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  batchNormTrainingGradKernel,
  batchNormTrainingKernel,
} from './kernels/batch-norm-training.js';
import {
  BROADCAST_GRAD_KERNEL,
  broadcastGradKernel,
  installReduceGradients,
  restoreReduceGradients,
} from './kernels/reduce-gradient.js';
import { nativeAdam } from './optimizers/native-adam.js';
import { applyWithPenalties } from './optimizers/penalized-apply.js';
import { nativeRmsProp } from './optimizers/native-rmsprop.js';
import { nativeMomentum, nativeSgd } from './optimizers/native-sgd.js';
import { accelerateOptimizer, clearNativeApply, registerNativeApply } from './optimizers/optimizer-patch.js';
import { findWasmBackend } from './wasm/wasm-backend.js';

export type { BlasStatus } from './addon/native-addon.js';
import { quadraticPenalty } from './penalties/ewc-penalty.js';
export { quadraticPenalty, type QuadraticTerm } from './penalties/ewc-penalty.js';
export { applyWithPenalties } from './optimizers/penalized-apply.js';
export { accelerateOptimizer } from './optimizers/optimizer-patch.js';
import { allFinite } from './finite/all-finite.js';
export { allFinite } from './finite/all-finite.js';
export type { EntryPenalties, PenaltyTerm } from './optimizers/optimizer-patch.js';

/** The result of {@link load}: whether native kernels are active, and a one-line description. */
export interface NativeLoadResult {
  readonly loaded: boolean;
  /** `openblas(openmp, 2 threads)` when loaded, `no BLAS: <reason>` when not. */
  readonly description: string;
}

let blas: BlasStatus | undefined;

function refuse(reason: string): NativeLoadResult {
  return { loaded: false, description: `no BLAS: ${reason}` };
}

/**
 * Registers Engram's native kernels on the tfjs wasm backend: BatchMatMul and _FusedMatMul over the
 * system's OpenBLAS `cblas_sgemm` (zero-copy on the wasm heap), Conv2D / FusedConv2D and their input
 * and filter gradients (direct loops or chunked im2col + sgemm, OpenMP), MaxPool and MaxPoolGrad, large bias/same-shape
 * Add and Relu, a one-pass relu gradient (a Relu gradient
 * override that uses it on wasm only), core's fused reset-after GRU sequence kernels
 * (`EngramGruSequence` and its gradient: one call per pass), Sum and Mean over consecutive axes, no-copy Identity and
 * same-dtype Cast, per-channel FusedBatchNorm and a one-pass FusedBatchNorm gradient (a gradient
 * override, wasm only), core's batch norm in training (`EngramBatchNormTraining`: batch statistics and
 * normalisation in one call) and its gradient (`EngramBatchNormTrainingGrad`), the Sum and Mean gradients as one broadcast pass (a gradient override, wasm
 * only), large non-contiguous Slice (zero padding's gradient), float32
 * UnsortedSegmentSum (an embedding's gradient), large Sub / Multiply / RealDiv / SquaredDifference / Square (same shape,
 * per-channel or scalar operands),
 * and native in-place updates for tfjs's Adam, SGD, Momentum and RMSProp optimizers — for the instances
 * given to {@link accelerateOptimizer} only (no prototype is patched; state stays in the optimizers'
 * own variables). Call after `tf.setBackend('wasm')` succeeded. When the
 * addon or an OpenBLAS is missing, nothing is changed and the reason is returned.
 */
export function load(): NativeLoadResult {
  const loaded = loadAddon();
  if ('error' in loaded) return refuse(loaded.error);
  const backend = findWasmBackend();
  if (!backend) return refuse('the tfjs wasm backend is not initialised');
  if (!(backend.wasm.HEAPU8.buffer instanceof ArrayBuffer)) return refuse('the wasm heap is shared (threaded wasm)');
  blas ??= loaded.addon.init();
  if (!blas.ok) return refuse(blas.reason);
  const addon = loaded.addon;
  if (replacedKernels().length === 0) {
    replaceKernel('BatchMatMul', batchMatMulKernel(addon));
    replaceKernel('_FusedMatMul', fusedMatMulKernel(addon));
    replaceKernel('Sum', sumKernel(addon));
    replaceKernel('Identity', identityKernel());
    replaceKernel('Conv2D', conv2dKernel(addon));
    replaceKernel('FusedConv2D', conv2dKernel(addon));
    replaceKernel('Conv2DBackpropInput', conv2dBackpropInputKernel(addon));
    replaceKernel('Conv2DBackpropFilter', conv2dBackpropFilterKernel(addon));
    replaceKernel('MaxPool', maxPoolKernel(addon));
    replaceKernel('MaxPoolGrad', maxPoolGradKernel(addon));
    replaceKernel('Add', addKernel(addon));
    replaceKernel('Relu', reluKernel(addon));
    replaceKernel(RELU_GRAD_KERNEL, reluGradKernel(addon));
    replaceKernel(GRU_SEQUENCE_KERNEL, gruSequenceKernel(addon));
    replaceKernel(GRU_SEQUENCE_GRAD_KERNEL, gruSequenceGradKernel(addon));
    installReluGradient();
    // Batch norm and the ops around it (issue #32: the reduced ResNet-18).
    replaceKernel('FusedBatchNorm', batchNormKernel(addon));
    replaceKernel(BATCH_NORM_GRAD_KERNEL, batchNormGradKernel(addon));
    replaceKernel('Mean', reduceKernel(addon, true));
    replaceKernel('Sub', binaryKernel(addon, BINARY_OP.sub));
    replaceKernel('Multiply', binaryKernel(addon, BINARY_OP.mul));
    replaceKernel('RealDiv', binaryKernel(addon, BINARY_OP.div));
    replaceKernel('SquaredDifference', binaryKernel(addon, BINARY_OP.squaredDifference));
    replaceKernel('Square', squareKernel(addon));
    replaceKernel('Cast', castKernel());
    installBatchNormGradient();
    // Core's batch norm in training as two fused kernels (new names: core uses them when registered).
    replaceKernel(BATCH_NORM_TRAINING_KERNEL, batchNormTrainingKernel(addon));
    replaceKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, batchNormTrainingGradKernel(addon));
    // The Sum/Mean gradients without tfjs's host-filled `ones` (moments, global average pooling).
    replaceKernel(BROADCAST_GRAD_KERNEL, broadcastGradKernel(addon));
    installReduceGradients();
    replaceKernel('Slice', sliceKernel(addon));
    replaceKernel('UnsortedSegmentSum', segmentSumKernel(addon));
  }
  registerNativeApply(tf.AdamOptimizer, addon, nativeAdam);
  registerNativeApply(tf.SGDOptimizer, addon, nativeSgd);
  registerNativeApply(tf.MomentumOptimizer, addon, nativeMomentum);
  registerNativeApply(tf.RMSPropOptimizer, addon, nativeRmsProp);
  return { loaded: true, description: describe(blas) };
}

/** `openblas(openmp, 2 threads)`. */
function describe(status: BlasStatus): string {
  return `openblas(${status.parallel}, ${status.threads} thread${status.threads === 1 ? '' : 's'})`;
}

/** Removes the native kernels and optimizer updates again (stock wasm kernels and updates from then on). */
export function unload(): void {
  restoreKernels();
  restoreReluGradient();
  restoreBatchNormGradient();
  restoreReduceGradients();
  clearNativeApply();
}

/** What the addon found when it opened the BLAS, or undefined before a successful {@link load}. */
export function blasStatus(): BlasStatus | undefined {
  return blas;
}

/** Kernel names currently replaced by native ones on the wasm backend. */
export function nativeKernels(): string[] {
  return replacedKernels();
}

/** The accelerator object core's backend selector expects (`(mod.default ?? mod).load()`). */
const accelerator = { load, quadraticPenalty, applyWithPenalties, accelerateOptimizer, allFinite };
export default accelerator;
