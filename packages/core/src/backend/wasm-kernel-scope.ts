import * as tf from '@tensorflow/tfjs';
import type { DataType, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** Typed arrays the wasm backend hands out for numeric tensors. */
export type WasmValues = Float32Array | Int32Array | Uint8Array;

/**
 * The few members of the tfjs wasm backend object the fallback kernels use.
 * tfjs types a kernel's `backend` argument as `{}`; {@link asWasmBackend} narrows it.
 */
export interface WasmBackendView {
  disposeData(dataId: object): unknown;
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): WasmValues;
}

function isWasmBackend(backend: unknown): backend is WasmBackendView {
  if (typeof backend !== 'object' || backend === null) return false;
  const b = backend as Record<string, unknown>;
  return ['disposeData', 'readSync', 'makeOutput', 'typedArrayFromHeap'].every((k) => typeof b[k] === 'function');
}

/**
 * Narrows a kernel's `backend` argument to the wasm backend API.
 * Called at the start of every Engram wasm fallback kernel; throws if the kernel
 * somehow runs on another backend.
 */
export function asWasmBackend(backend: unknown): WasmBackendView {
  if (!isWasmBackend(backend)) throw new Error('Engram wasm kernel called with a non-wasm backend');
  return backend;
}

/**
 * Copies a numeric tensor's values out of the wasm heap. Called by the JS-loop
 * fallback kernels (the copy stays valid when the heap grows).
 */
export function readValues(backend: WasmBackendView, info: TensorInfo): WasmValues {
  const v = backend.readSync(info.dataId);
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  throw new Error(`Engram wasm kernel: unsupported dtype ${info.dtype}`);
}

/**
 * A zero-copy Float32Array view of a float32 tensor on the wasm heap. Called by the
 * JS-loop fallback kernels after their last wasm allocation: any later allocation may
 * grow the heap and detach the view.
 */
export function heapFloat32(backend: WasmBackendView, info: TensorInfo): Float32Array {
  const v = backend.typedArrayFromHeap(info);
  if (!(v instanceof Float32Array)) throw new Error(`Engram wasm kernel: expected float32, got ${info.dtype}`);
  return v;
}

/**
 * Runs wasm kernels directly on TensorInfos inside another kernel, remembering every
 * intermediate so it can be released. Created by the fallback kernels for the
 * duration of one kernel call; see {@link runInWasmScope}.
 */
export class WasmKernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(
    /** The raw backend object, passed through to the wasm kernel functions. */
    readonly rawBackend: object,
    /** The same backend, typed. */
    readonly backend: WasmBackendView,
  ) {}

  /** Runs the wasm kernel `name`; the output is released when the scope ends. */
  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`Engram wasm fallback needs kernel '${name}' on wasm`);
    const out = config.kernelFunc({ inputs, backend: this.rawBackend, attrs });
    if (Array.isArray(out)) {
      for (const t of out) this.temps.push(t);
      throw new Error(`Engram wasm fallback: kernel '${name}' returned several outputs`);
    }
    this.temps.push(out);
    return out;
  }

  /** Adopts a TensorInfo created outside {@link run} (e.g. by makeOutput). */
  track(info: TensorInfo): TensorInfo {
    this.temps.push(info);
    return info;
  }

  /** Excludes `info` from disposal: it becomes the kernel's result. */
  keep(info: TensorInfo): TensorInfo {
    const i = this.temps.indexOf(info);
    if (i < 0) throw new Error('Engram wasm fallback: a kernel result must be created inside its scope');
    this.temps.splice(i, 1);
    return info;
  }

  /** Releases every intermediate still held. */
  dispose(): void {
    for (const t of this.temps.splice(0)) this.backend.disposeData(t.dataId);
  }

  /** wasm Transpose; used to materialise transposes and swap conv axes. */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Swaps the two innermost axes; used by the matMul wrappers instead of transpose flags. */
  transposeInner(x: TensorInfo): TensorInfo {
    const r = x.shape.length;
    const perm = x.shape.map((_, i) => (i === r - 1 ? r - 2 : i === r - 2 ? r - 1 : i));
    return this.transpose(x, perm);
  }

  /** wasm Reshape (shares the data, adds a reference that the scope releases). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** wasm PadV2 with zeros; used to pad conv inputs / gradients explicitly. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** wasm Slice; used to crop where a negative padding would be needed. */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** wasm Sum over `axis` (dims dropped); used for reductions inside fallbacks. */
  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /**
   * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an
   * NHWC tensor: `spatial = [[top, bottom], [left, right]]`. Returns `x` itself when
   * all amounts are 0, so use the result only as an intermediate.
   */
  padOrCrop(x: TensorInfo, spatial: [[number, number], [number, number]]): TensorInfo {
    const [[t, b], [l, r]] = spatial;
    const [n = 1, h = 1, w = 1, c = 1] = x.shape;
    let y = x;
    if (t < 0 || b < 0 || l < 0 || r < 0) {
      const ct = Math.max(0, -t),
        cb = Math.max(0, -b),
        cl = Math.max(0, -l),
        cr = Math.max(0, -r);
      y = this.slice(y, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
    }
    if (t > 0 || b > 0 || l > 0 || r > 0) {
      y = this.pad(y, [
        [0, 0],
        [Math.max(0, t), Math.max(0, b)],
        [Math.max(0, l), Math.max(0, r)],
        [0, 0],
      ]);
    }
    return y;
  }

  /**
   * Inserts `stride - 1` zeros after every row/column of an NHWC tensor. Returns `x`
   * itself for stride 1, so use the result only as an intermediate.
   */
  dilateSpatial(x: TensorInfo, strides: [number, number]): TensorInfo {
    const [sh, sw] = strides;
    if (sh === 1 && sw === 1) return x;
    const [n = 1, h = 1, w = 1, c = 1] = x.shape;
    const six = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.pad(six, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return this.reshape(padded, [n, h * sh, w * sw, c]);
  }
}

/**
 * Runs `body` with a fresh {@link WasmKernelScope} and returns its result, releasing
 * every other intermediate (also when `body` throws). Called by each fallback kernel.
 */
export function runInWasmScope(rawBackend: object, body: (scope: WasmKernelScope) => TensorInfo): TensorInfo {
  const scope = new WasmKernelScope(rawBackend, asWasmBackend(rawBackend));
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
