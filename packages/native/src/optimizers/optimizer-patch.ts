import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { findWasmBackend, offsetOf, type WasmBackend } from '../wasm/wasm-backend.js';

/** `optimizer.applyGradients`'s argument. */
export type VariableGradients = tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>;

/** One optimizer-state slot as tfjs keeps it (and `getWeights()` saves it). */
export interface StateSlot {
  originalName: string;
  variable: tf.Variable;
}

/** What a native update needs: the addon and the active wasm backend. */
export interface NativeContext {
  readonly addon: NativeAddon;
  readonly backend: WasmBackend;
}

/** A native `applyGradients`: returns false (having changed nothing) to fall back to the stock one. */
export type NativeApply = (optimizer: unknown, grads: VariableGradients, ctx: NativeContext) => boolean;

interface Patchable {
  prototype: { applyGradients(grads: VariableGradients): void };
}

const originals = new Map<Patchable, (grads: VariableGradients) => void>();

/**
 * Replaces `cls.prototype.applyGradients` so every instance (also those made by `tf.train.*` and
 * tfjs-layers) updates natively while the wasm backend is active; otherwise, or when `apply`
 * declines, the stock method runs. Optimizer state stays in the optimizer's own variables.
 */
export function patchApplyGradients(cls: Patchable, addon: NativeAddon, apply: NativeApply): void {
  if (originals.has(cls)) return;
  const original = cls.prototype.applyGradients;
  originals.set(cls, original);
  cls.prototype.applyGradients = function patched(this: unknown, grads: VariableGradients): void {
    const backend = tf.getBackend() === 'wasm' ? findWasmBackend() : undefined;
    if (backend && apply(this, grads, { addon, backend })) return;
    original.call(this, grads);
  };
}

/** Restores every patched `applyGradients`. */
export function restoreApplyGradients(): void {
  for (const [cls, original] of originals) cls.prototype.applyGradients = original;
  originals.clear();
}

/** The (name, gradient) pairs of an `applyGradients` call, in the order tfjs indexes its state. */
export function gradientEntries(grads: VariableGradients): Array<[string, tf.Tensor | undefined]> {
  if (Array.isArray(grads)) return grads.map((g) => [g.name, g.tensor]);
  return Object.keys(grads).map((name) => [name, grads[name]]);
}

/** The registered variable called `name`. */
export function variableNamed(name: string): tf.Variable | undefined {
  return tf.engine().registeredVariables[name];
}

/** Gets or creates a zero-initialised, non-trainable state slot, exactly as the tfjs optimizer does. */
export function stateSlot(slots: Array<StateSlot | undefined>, i: number, value: tf.Variable, suffix: string): StateSlot {
  let slot = slots[i];
  if (slot == null) {
    slot = { originalName: `${value.name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    slots[i] = slot;
  }
  return slot;
}

/** True when every tensor is float32 data on the wasm backend (so the heap offsets are valid). */
export function allOnWasm(backend: WasmBackend, tensors: ReadonlyArray<tf.Tensor>): boolean {
  return tensors.every((t) => offsetOf(backend, t) >= 0);
}

/** Reads a float32 scalar straight from the wasm heap. */
export function readScalar(backend: WasmBackend, t: tf.Tensor): number {
  return new Float32Array(backend.wasm.HEAPU8.buffer, offsetOf(backend, t), 1)[0] ?? Number.NaN;
}

/** Writes a float32 scalar straight into the wasm heap (the caller ensured the buffer is exclusive). */
export function writeScalar(backend: WasmBackend, t: tf.Tensor, value: number): void {
  new Float32Array(backend.wasm.HEAPU8.buffer, offsetOf(backend, t), 1)[0] = value;
}
