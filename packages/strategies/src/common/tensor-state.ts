import * as tf from '@tensorflow/tfjs';
import type { StateArray } from '@engram/core';

/**
 * Tensors a strategy owns (anchors, importances), keyed by {@link variableKey}: the variable's position
 * in `model.trainableVariables()`. Positions (checked together with shapes) stay valid across a
 * checkpoint reload, where tfjs may give the rebuilt variables different unique names.
 */
export type TensorStore = Map<string, tf.Tensor>;

/** The store key of the `index`-th trainable variable. */
export function variableKey(index: number): string {
  return `#${index}`;
}

/** Copies of the current values of `variables`, keyed by position. The caller owns them. */
export function snapshotVariables(variables: readonly tf.Variable[]): TensorStore {
  const out: TensorStore = new Map();
  variables.forEach((v, i) => out.set(variableKey(i), tf.clone(v)));
  return out;
}

/** Re-keys a store keyed by variable name to position keys (entries of unknown names are disposed). */
export function keyByPosition(byName: TensorStore, variables: readonly tf.Variable[]): TensorStore {
  const out: TensorStore = new Map();
  const index = new Map(variables.map((v, i) => [v.name, i]));
  for (const [name, t] of byName) {
    const i = index.get(name);
    if (i === undefined) t.dispose();
    else out.set(variableKey(i), t);
  }
  return out;
}

/** Disposes every tensor of a store and empties it. */
export function disposeStore(store: TensorStore): void {
  for (const t of store.values()) t.dispose();
  store.clear();
}

/** A float32 state array holding a copy of `tensor`'s values. */
export function tensorToArray(tensor: tf.Tensor): StateArray {
  return { dtype: 'float32', shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync() as Float32Array) };
}

/** Writes a store into `arrays` under `prefix/name` (names may contain `/`; the prefix is kept apart by `:`). */
export function storeToArrays(prefix: string, store: TensorStore, arrays: Record<string, StateArray>): void {
  for (const [name, t] of store) arrays[`${prefix}:${name}`] = tensorToArray(t);
}

/** Reads back what {@link storeToArrays} wrote under `prefix`. */
export function arraysToStore(prefix: string, arrays: Readonly<Record<string, StateArray>> | undefined): TensorStore {
  const out: TensorStore = new Map();
  for (const [key, a] of Object.entries(arrays ?? {})) {
    if (!key.startsWith(`${prefix}:`)) continue;
    out.set(key.slice(prefix.length + 1), tf.tensor(Float32Array.from(a.data), [...a.shape], 'float32'));
  }
  return out;
}

/** Reads a JSON meta object, failing with a clear message when a checkpoint does not hold one. */
export function metaObject(meta: unknown, who: string): Record<string, unknown> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new Error(`${who}: the checkpointed state has no metadata object; was it written by another strategy?`);
  }
  return meta as Record<string, unknown>;
}

/** A number field of a meta object, or a clear error. */
export function metaNumber(meta: Record<string, unknown>, key: string, who: string): number {
  const v = meta[key];
  if (typeof v !== 'number') throw new Error(`${who}: the checkpointed state lacks the number "${key}"`);
  return v;
}
