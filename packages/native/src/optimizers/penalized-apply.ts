import * as tf from '@tensorflow/tfjs';
import { loadAddon } from '../addon/native-addon.js';
import { findWasmBackend } from '../wasm/wasm-backend.js';
import { nativeApplyOf, type EntryPenalties } from './optimizer-patch.js';

/**
 * Applies `grads` with `optimizer` and, in the same native pass over each variable, the gradient of
 * quadratic penalties (EWC, SI, MAS): `penalties[i]` are the terms on the variable of `grads[i]`, each
 * adding `2·scale·F·(θ−θ*)` to its gradient. Returns the penalties' value `Σ scale·F·(θ−θ*)²` at the
 * weights before the update, or undefined — having changed nothing — when the native kernels are not
 * active or cannot take this optimizer or these tensors (the caller then adds the gradients itself).
 *
 * Compared with adding the penalty inside the gradient tape, this reads θ* and F once and writes no
 * penalty-gradient tensor: no extra tape node, no `Add` per variable, no second pass over θ.
 */
export function applyWithPenalties(
  optimizer: tf.Optimizer,
  grads: ReadonlyArray<{ name: string; tensor: tf.Tensor }>,
  penalties: EntryPenalties,
): number | undefined {
  const loaded = loadAddon();
  const backend = tf.getBackend() === 'wasm' ? findWasmBackend() : undefined;
  const apply = nativeApplyOf(optimizer);
  if ('error' in loaded || !backend || !apply) return undefined;
  const result = apply(optimizer, grads.slice(), { addon: loaded.addon, backend }, penalties);
  return result === false ? undefined : result;
}
