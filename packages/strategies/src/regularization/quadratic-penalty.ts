import * as tf from '@tensorflow/tfjs';
import type { QuadraticTerm } from '@engram/core';
import { grewFrom, sameShape } from '../common/grown-shapes.js';
import { variableKey, type TensorStore } from '../common/tensor-state.js';

/**
 * The terms `Fᵢ (θᵢ − θ*ᵢ)²` for the variables present in both stores. A variable that grew since its
 * anchor was taken (a head widened by `grow-head`: kernel `[in, k]` → `[in, k']`, bias `[k]` → `[k']`)
 * is penalised on the part that existed then — the old classes' weights stay protected, the new ones
 * are free. Variables that appeared later, or changed in another way, are skipped. Return the terms
 * as core's `QuadraticPenalty` (the trainer adds their gradient at the optimizer step, fused with the
 * update when native kernels are loaded). Call inside the tape: a grown head's slice is a tape tensor.
 */
export function quadraticTerms(variables: readonly tf.Variable[], importance: TensorStore, anchor: TensorStore): QuadraticTerm[] {
  const terms: QuadraticTerm[] = [];
  for (const [i, v] of variables.entries()) {
    const f = importance.get(variableKey(i));
    const a = anchor.get(variableKey(i));
    if (!f || !a || !sameShape(f.shape, a.shape)) continue;
    if (sameShape(a.shape, v.shape)) terms.push({ param: v, anchor: a, importance: f });
    else if (grewFrom(a.shape, v.shape)) terms.push({ param: tf.slice(v, a.shape.map(() => 0), [...a.shape]), anchor: a, importance: f });
  }
  return terms;
}
