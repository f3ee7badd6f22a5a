import * as tf from '@tensorflow/tfjs';
import { loadAddon } from '../addon/native-addon.js';
import { findWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/**
 * Whether every value of `tensors` is finite (no NaN, no ±Infinity), answered by one native pass over
 * each tensor's float32 memory on the wasm heap — no tensor created, no kernel run, nothing read back
 * through tfjs. Returns undefined when it cannot answer (the addon is not loaded, wasm is not the
 * active backend, a tensor is disposed, not float32 or not on the wasm heap): core's poisoned-batch
 * check then probes with tf ops, whose answer this one matches. Core's live-run trainer calls it once
 * per batch, between backward and the optimizer step; it only reads.
 */
export function allFinite(tensors: readonly tf.Tensor[]): boolean | undefined {
  const loaded = loadAddon();
  if ('error' in loaded || tf.getBackend() !== 'wasm') return undefined;
  const backend = findWasmBackend();
  if (!backend) return undefined;
  const spans = new Float64Array(2 * tensors.length);
  let k = 0;
  for (const t of tensors) {
    if (t.isDisposed || t.dtype !== 'float32') return undefined;
    if (t.size === 0) continue;
    const off = offsetOf(backend, t);
    if (off < 0) return undefined;
    spans[k++] = off;
    spans[k++] = t.size;
  }
  return loaded.addon.allFinite(heapOf(backend), spans.subarray(0, k));
}
