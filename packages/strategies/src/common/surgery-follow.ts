import * as tf from '@tensorflow/tfjs';
import { surgeryLineage, type EngramModel, type SurgeryLineage } from '@engram/core';
import { variableKey, type TensorStore } from './tensor-state.js';

/** What a store holds per variable: weight values (anchors θ*, teacher weights) or importances (Fisher, Ω). */
export type StoreRole = 'weights' | 'importance';

/**
 * The surgery (`widen-layer`, `insert-layer`, `reinit-layers`) `model` came out of at this
 * experience's start, once per `seen` set: a strategy calls it from `adaptModel` and re-keys its
 * stores with {@link followSurgery}. Undefined when there was none, or it was already followed.
 */
export function pendingSurgery(
  model: EngramModel,
  experience: number,
  seen: WeakSet<SurgeryLineage>,
): SurgeryLineage | undefined {
  const lineage = surgeryLineage(model, experience);
  if (!lineage || seen.has(lineage)) return undefined;
  seen.add(lineage);
  return lineage;
}

/**
 * A position-keyed store re-keyed to the model after a surgery: each entry moves to its variable's
 * new position and takes its new shape (a widened layer's copied units, an outgoing kernel's split
 * rows: weights as the surgery turned them, importances 0 where units were added). Variables the
 * surgery created get their value at insertion when `role` is `weights` and `withNew` is set (a
 * teacher must compute the old function through an inserted identity layer), else no entry — no
 * penalty on what did not exist at the anchor. Disposes `store`'s tensors; returns a new store.
 */
export function followSurgery(
  store: TensorStore,
  lineage: SurgeryLineage,
  role: StoreRole,
  withNew = false,
): TensorStore {
  const out: TensorStore = new Map();
  lineage.origins.forEach((o, i) => {
    if (o.from === undefined) {
      if (role === 'weights' && withNew && o.initial) out.set(variableKey(i), o.initial());
      return;
    }
    const old = store.get(variableKey(o.from));
    if (!old) return;
    const map = role === 'weights' ? o.weights : o.importance;
    out.set(variableKey(i), map ? tf.tidy(() => map(old)) : tf.clone(old));
  });
  for (const t of store.values()) t.dispose();
  return out;
}
