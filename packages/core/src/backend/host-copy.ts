import * as tf from '@tensorflow/tfjs';
import type { StateArray } from '../plugin-api/serialized-state.js';

/**
 * Backends whose `dataSync()` returns a fresh array the caller owns: the wasm backend copies out of
 * its heap on every read. The cpu backend returns its live storage, and a GPU backend may return a
 * cached download, so their results are copied once more before anyone keeps them.
 */
const FRESH_READBACK: ReadonlySet<string> = new Set(['wasm']);

/** Backends that copy a tensor's values when it is created, so the caller may reuse the array at once. */
const COPYING_WRITES: ReadonlySet<string> = new Set(['wasm']);

/**
 * Whether the active backend copies the values a tensor is created from (`tf.tensor(values)`): then a
 * large scratch array can be refilled for the next tensor instead of allocated afresh — on a virtual
 * machine the first touch of fresh pages can cost more than the copy itself. The cpu backend keeps the
 * array as the tensor's storage.
 */
export function writesAreCopied(): boolean {
  return COPYING_WRITES.has(tf.getBackend());
}

/** Whether the active backend's `dataSync()` results are fresh copies (see {@link FRESH_READBACK}). */
export function readbackIsFresh(): boolean {
  return FRESH_READBACK.has(tf.getBackend());
}

/**
 * A host copy of `tensor` that nothing else shares — one copy on any backend: the read itself where
 * the backend's reads are fresh ({@link readbackIsFresh}), else a copy of it. For checkpoint capture
 * and snapshots, whose arrays are written or kept after the tensor has changed.
 */
export function hostArray(tensor: tf.Tensor): StateArray {
  const data = tensor.dataSync();
  const fresh = readbackIsFresh();
  if (tensor.dtype === 'int32')
    return {
      dtype: 'int32',
      shape: tensor.shape,
      data: fresh && data instanceof Int32Array ? data : new Int32Array(data),
    };
  return {
    dtype: 'float32',
    shape: tensor.shape,
    data: fresh && data instanceof Float32Array ? data : new Float32Array(data),
  };
}
