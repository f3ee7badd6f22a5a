import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf, type WasmBackend } from '../wasm/wasm-backend.js';

/**
 * Name of core's fused batch norm in training (wasm only, registered when the addon loads): inputs
 * `{ x, scale [C], offset [C] }`, attrs `{ varianceEpsilon }`, outputs `[y, mean [C], variance [C],
 * invStd [C]]` over the last axis (channels last, N = size / C rows).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'EngramBatchNormTraining';

/**
 * Name of its gradient (wasm only): inputs `{ dy, x, scale, mean, invStd }`, outputs
 * `[dx, dScale [C], dOffset [C]]`.
 */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'EngramBatchNormTrainingGrad';

type Inputs = Record<string, tf.TensorInfo | undefined>;

/** `float32 [32,32,32,20]`, or `missing`. */
function describe(t: tf.TensorInfo | undefined): string {
  return t ? `${t.dtype} [${t.shape.join(',')}]` : 'missing';
}

/**
 * Checks `x` (float32, at least one row and one channel) and returns its channel count C (the last
 * dimension) and row count N; throws a one-line error naming the kernel and the input otherwise.
 */
function checkInput(kernel: string, name: string, x: tf.TensorInfo | undefined): { rows: number; cols: number } {
  const cols = x?.shape[x.shape.length - 1] ?? 0;
  const size = x ? tf.util.sizeFromShape(x.shape) : 0;
  if (!x || x.dtype !== 'float32' || x.shape.length < 1 || size === 0) {
    throw new Error(`${kernel}: ${name} must be a non-empty float32 tensor (channels last), got ${describe(x)}`);
  }
  return { rows: size / cols, cols };
}

/** Throws unless every named input is float32 of shape [cols]. */
function checkPerChannel(kernel: string, cols: number, inputs: Inputs, names: readonly string[]): void {
  for (const name of names) {
    const t = inputs[name];
    if (!t || t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== cols) {
      throw new Error(`${kernel}: ${name} must be float32 [${cols}] (x's last dimension), got ${describe(t)}`);
    }
  }
}

/** Heap byte offsets of `tensors`, throwing when one does not live on this wasm backend. */
function offsets(kernel: string, backend: WasmBackend, tensors: Record<string, tf.TensorInfo>): number[] {
  return Object.entries(tensors).map(([name, t]) => {
    const off = offsetOf(backend, t);
    if (off < 0) throw new Error(`${kernel}: ${name} has no float32 data on the wasm backend`);
    return off;
  });
}

/**
 * The {@link BATCH_NORM_TRAINING_KERNEL} kernel: the batch mean, the biased two-pass variance, invStd =
 * 1 / sqrt(variance + ε) and y = (x − mean) · invStd · scale + offset in one native call (sums in
 * double over fixed row chunks: the same bits for any thread count). It has no stock kernel to fall
 * back to: unsupported inputs throw.
 */
export function batchNormTrainingKernel(addon: NativeAddon) {
  return (): tf.KernelFunc => (args) => {
    const kernel = BATCH_NORM_TRAINING_KERNEL;
    const inputs: Inputs = args.inputs;
    const { rows, cols } = checkInput(kernel, 'x', inputs['x']);
    checkPerChannel(kernel, cols, inputs, ['scale', 'offset']);
    const epsilon = args.attrs?.['varianceEpsilon'];
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
      throw new Error(
        `${kernel}: varianceEpsilon must be a finite number >= 0, got ${JSON.stringify(epsilon) ?? typeof epsilon}`,
      );
    }
    const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', tf.TensorInfo>;
    const backend = asWasmBackend(args.backend);
    const [xOff = -1, scaleOff = -1, offsetOff = -1] = offsets(kernel, backend, { x, scale, offset });
    const y = backend.makeOutput(x.shape.slice(), 'float32');
    const stats = [0, 1, 2].map(() => backend.makeOutput([cols], 'float32'));
    const [yOff = -1, meanOff = -1, varOff = -1, invStdOff = -1] = [y, ...stats].map((t) => offsetOf(backend, t));
    addon.batchNormTraining(
      heapOf(backend),
      xOff,
      scaleOff,
      offsetOff,
      epsilon,
      yOff,
      meanOff,
      varOff,
      invStdOff,
      rows,
      cols,
    );
    return [y, ...stats];
  };
}

/**
 * The {@link BATCH_NORM_TRAINING_GRAD_KERNEL} kernel: with xhat = (x − mean) · invStd, dOffset = Σ dy,
 * dScale = Σ dy · xhat and dx = scale · invStd / N · (N · dy − dOffset − xhat · dScale), reading x and
 * dy twice (sums in double over fixed row chunks). Unsupported inputs throw.
 */
export function batchNormTrainingGradKernel(addon: NativeAddon) {
  return (): tf.KernelFunc => (args) => {
    const kernel = BATCH_NORM_TRAINING_GRAD_KERNEL;
    const inputs: Inputs = args.inputs;
    const { rows, cols } = checkInput(kernel, 'x', inputs['x']);
    const dy = inputs['dy'];
    if (!dy || dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, inputs['x']?.shape ?? [])) {
      throw new Error(
        `${kernel}: dy must be float32 of x's shape [${inputs['x']?.shape.join(',')}], got ${describe(dy)}`,
      );
    }
    checkPerChannel(kernel, cols, inputs, ['scale', 'mean', 'invStd']);
    const { x, scale, mean, invStd } = inputs as Record<'x' | 'scale' | 'mean' | 'invStd', tf.TensorInfo>;
    const backend = asWasmBackend(args.backend);
    const [dyOff = -1, xOff = -1, scaleOff = -1, meanOff = -1, invStdOff = -1] = offsets(kernel, backend, {
      dy,
      x,
      scale,
      mean,
      invStd,
    });
    const dx = backend.makeOutput(x.shape.slice(), 'float32');
    const perChannel = [0, 1].map(() => backend.makeOutput([cols], 'float32'));
    const [dxOff = -1, dScaleOff = -1, dOffsetOff = -1] = [dx, ...perChannel].map((t) => offsetOf(backend, t));
    addon.batchNormTrainingGrad(
      heapOf(backend),
      dyOff,
      xOff,
      scaleOff,
      meanOff,
      invStdOff,
      dxOff,
      dScaleOff,
      dOffsetOff,
      rows,
      cols,
    );
    return [dx, ...perChannel];
  };
}
