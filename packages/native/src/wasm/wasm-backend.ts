import * as tf from '@tensorflow/tfjs';

/** The per-tensor record tfjs-backend-wasm keeps in its `dataIdMap`. */
interface WasmTensorData {
  readonly id: number;
  readonly memoryOffset: number | null;
  readonly shape: number[];
  readonly dtype: tf.DataType;
  refCount: number;
}

type DataId = object;

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` the native kernels use (not in its public types):
 * tensor data lives in the wasm heap at `dataIdMap.get(dataId).memoryOffset`.
 */
export interface WasmBackend {
  readonly dataIdMap: { get(dataId: DataId): WasmTensorData | undefined; has(dataId: DataId): boolean };
  readonly wasm: { readonly HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: DataId): void;
  refCount(dataId: DataId): number;
}

function isWasmBackend(value: unknown): value is WasmBackend {
  const v = value as Partial<WasmBackend> | null;
  return v != null && typeof v.makeOutput === 'function' && v.dataIdMap != null && v.wasm != null;
}

/** The registered wasm backend instance, or undefined when it is not registered or initialised. */
export function findWasmBackend(): WasmBackend | undefined {
  const backend: unknown = tf.findBackend('wasm');
  return isWasmBackend(backend) ? backend : undefined;
}

/** Narrows the `backend` argument a kernel receives. */
export function asWasmBackend(backend: unknown): WasmBackend {
  if (!isWasmBackend(backend)) throw new Error('@engram/native: kernel called with a non-wasm backend');
  return backend;
}

/** Byte offset of a float32 tensor's data in the wasm heap, or -1 when it is not on this backend. */
export function offsetOf(backend: WasmBackend, info: { readonly dataId: DataId }): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data == null || data.memoryOffset == null || data.dtype !== 'float32') return -1;
  return data.memoryOffset;
}

/** Byte offset of an int32 tensor's data in the wasm heap, or -1 when it is not on this backend. */
export function int32OffsetOf(backend: WasmBackend, info: { readonly dataId: DataId }): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data == null || data.memoryOffset == null || data.dtype !== 'int32') return -1;
  return data.memoryOffset;
}

/** The wasm heap's current buffer: read it after allocating outputs, since growth replaces it. */
export function heapOf(backend: WasmBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/**
 * Makes sure a variable's buffer is referenced by nothing else (a no-copy Identity or Reshape may
 * share it), so it can be updated in place: if it is shared, the variable gets a private copy.
 */
export function ensureExclusive(backend: WasmBackend, variable: tf.Variable): void {
  if (backend.refCount(variable.dataId) <= 1) return;
  const from = offsetOf(backend, variable);
  const info = backend.makeOutput(variable.shape.slice(), 'float32');
  const to = offsetOf(backend, info);
  backend.wasm.HEAPU8.copyWithin(to, from, from + variable.size * 4);
  const copy = tf.engine().makeTensorFromTensorInfo(info);
  variable.assign(copy);
  copy.dispose();
}
