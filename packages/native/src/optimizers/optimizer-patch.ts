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
export type NativeApply = (
  optimizer: unknown,
  grads: VariableGradients,
  ctx: NativeContext,
  penalties?: EntryPenalties,
) => number | false;

/** An optimizer class whose instances can take a native update (tfjs' `AdamOptimizer`, …). */
interface OptimizerClass {
  prototype: { applyGradients(grads: VariableGradients): void };
}

type ApplyGradients = (grads: VariableGradients) => void;

const appliers = new Map<OptimizerClass, NativeApply>();
let activeAddon: NativeAddon | undefined;
const accelerated = new WeakSet<object>();

/**
 * Registers the native update for instances of `cls`. Nothing is patched: only optimizers passed to
 * {@link accelerateOptimizer} (and {@link applyWithPenalties}' explicit calls) use it, so another
 * tfjs optimizer in the same process — another run's, or the embedding application's — is untouched.
 */
export function registerNativeApply(cls: OptimizerClass, addon: NativeAddon, apply: NativeApply): void {
  appliers.set(cls, apply);
  activeAddon = addon;
}

/** Forgets every registered native update; accelerated optimizers fall back to their stock method. */
export function clearNativeApply(): void {
  appliers.clear();
  activeAddon = undefined;
}

/**
 * Gives this one optimizer instance the native update (an own `applyGradients` that shadows the
 * prototype's): while native kernels are loaded and the wasm backend is active, its updates run in
 * place on the wasm heap; otherwise, or when the native update declines, the stock method runs.
 * Optimizer state stays in the optimizer's own variables. Returns the same instance. Classes without a
 * native update (or before `load()`) are returned unchanged.
 */
export function accelerateOptimizer<T extends object>(optimizer: T): T {
  if (accelerated.has(optimizer) || !nativeApplyOf(optimizer)) return optimizer;
  const stock = (optimizer as unknown as { applyGradients: ApplyGradients }).applyGradients;
  const patched = function applyGradients(this: unknown, grads: VariableGradients): void {
    const apply = nativeApplyOf(optimizer);
    const backend = activeAddon && apply && tf.getBackend() === 'wasm' ? findWasmBackend() : undefined;
    if (backend && activeAddon && apply && apply(this, grads, { addon: activeAddon, backend }) !== false) return;
    stock.call(this, grads);
  };
  Object.defineProperty(optimizer, 'applyGradients', {
    value: patched,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  accelerated.add(optimizer);
  return optimizer;
}

/** The native update registered for `optimizer`'s class (the nearest registered class up its prototype chain). */
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
export function penaltyTerms(
  backend: WasmBackend,
  terms: readonly PenaltyTerm[] | undefined,
  size: number,
): Float64Array | undefined | false {
  if (!terms || terms.length === 0) return undefined;
  const spec = new Float64Array(terms.length * 3);
  for (const [k, t] of terms.entries()) {
    const a = offsetOf(backend, t.anchor),
      f = offsetOf(backend, t.importance);
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
export function stateSlot(
  slots: Array<StateSlot | undefined>,
  i: number,
  value: tf.Variable,
  suffix: string,
): StateSlot {
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
