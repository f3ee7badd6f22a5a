import type * as tf from '@tensorflow/tfjs';
import type { QuadraticTerm } from '@engram/core';
import { variableKey, type TensorStore } from '../common/tensor-state.js';

/**
 * The terms `Fᵢ (θᵢ − θ*ᵢ)²` for the variables present in both stores with matching shapes.
 * Variables that changed shape (a grown head) or appeared later are skipped. Feed them to core's
 * `quadraticPenalty`, which fuses them when native kernels are loaded.
 */
export function quadraticTerms(variables: readonly tf.Variable[], importance: TensorStore, anchor: TensorStore): QuadraticTerm[] {
  const terms: QuadraticTerm[] = [];
  for (const [i, v] of variables.entries()) {
    const f = importance.get(variableKey(i));
    const a = anchor.get(variableKey(i));
    if (!f || !a || !sameShape(f.shape, v.shape) || !sameShape(a.shape, v.shape)) continue;
    terms.push({ param: v, anchor: a, importance: f });
  }
  return terms;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
