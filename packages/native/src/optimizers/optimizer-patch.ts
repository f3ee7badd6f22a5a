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

/**
 * Quadratic penalty terms on one variable, fused into its update: value `scale · Σ F·(θ−θ*)²`,
 * gradient `2 · scale · F · (θ − θ*)` (core's `VariablePenalty`).
 */
export interface PenaltyTerm {
  readonly anchor: tf.Tensor;
  readonly importance: tf.Tensor;
  readonly scale: number;
}

/** Penalty terms per gradient entry (same order as the gradients), or undefined for none. */
export type EntryPenalties = ReadonlyArray<readonly PenaltyTerm[] | undefined>;

/**
 * A native `applyGradients`. With `penalties`, each entry's terms are added to its gradient inside
 * the update. Returns the penalties' value (0 without), or false — having changed nothing — to fall
 * back to the stock method.
 */
export type NativeApply = (optimizer: unknown, grads: VariableGradients, ctx: NativeContext, penalties?: EntryPenalties) => number | false;

interface Patchable {
  prototype: { applyGradients(grads: VariableGradients): void };
}

const originals = new Map<Patchable, (grads: VariableGradients) => void>();
const appliers = new Map<Patchable, NativeApply>();

/**
 * Replaces `cls.prototype.applyGradients` so every instance (also those made by `tf.train.*` and
 * tfjs-layers) updates natively while the wasm backend is active; otherwise, or when `apply`
 * declines, the stock method runs. Optimizer state stays in the optimizer's own variables.
 */
export function patchApplyGradients(cls: Patchable, addon: NativeAddon, apply: NativeApply): void {
  if (originals.has(cls)) return;
  const original = cls.prototype.applyGradients;
  originals.set(cls, original);
  appliers.set(cls, apply);
  cls.prototype.applyGradients = function patched(this: unknown, grads: VariableGradients): void {
    const backend = tf.getBackend() === 'wasm' ? findWasmBackend() : undefined;
    if (backend && apply(this, grads, { addon, backend }) !== false) return;
    original.call(this, grads);
  };
}

/** Restores every patched `applyGradients`. */
export function restoreApplyGradients(): void {
  for (const [cls, original] of originals) cls.prototype.applyGradients = original;
  originals.clear();
  appliers.clear();
}

/** The native update patched onto `optimizer`'s class (the nearest patched class up its prototype chain). */
export function nativeApplyOf(optimizer: object): NativeApply | undefined {
  for (let proto: unknown = Object.getPrototypeOf(optimizer); proto != null; proto = Object.getPrototypeOf(proto)) {
    for (const [cls, apply] of appliers) if (cls.prototype === proto) return apply;
  }
  return undefined;
}

/**
 * The addon's `terms` argument for one variable of `size` elements: [anchorOff, fisherOff, gradScale]
 * triples. Undefined without terms; false when a term is not float32 wasm data of that size.
 */
export function penaltyTerms(backend: WasmBackend, terms: readonly PenaltyTerm[] | undefined, size: number): Float64Array | undefined | false {
  if (!terms || terms.length === 0) return undefined;
  const spec = new Float64Array(terms.length * 3);
  for (const [k, t] of terms.entries()) {
    const a = offsetOf(backend, t.anchor), f = offsetOf(backend, t.importance);
    if (a < 0 || f < 0 || t.anchor.size !== size || t.importance.size !== size) return false;
    spec.set([a, f, 2 * t.scale], k * 3);
  }
  return spec;
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
