import * as tf from '@tensorflow/tfjs';
import {
  quadraticPenalty,
  type QuadraticPenalty,
  type QuadraticPenaltyImpl,
  type QuadraticTerm,
} from '../plugin-api/quadratic-penalty.js';

export type { PenalizedApplyImpl, VariablePenalties, VariablePenalty } from '../plugin-api/variable-penalty.js';
import type { VariablePenalties, VariablePenalty } from '../plugin-api/variable-penalty.js';

/**
 * Splits the quadratic penalties of a step: terms on a variable of `variables` (same shape as its
 * anchor) are deferred to the optimizer step; the rest are returned as one differentiable scalar for
 * the tape (pass no variables to keep everything on the tape). Call inside the tape. `accelerated` is
 * the run's fused penalty (`RunContext.accelerator.quadraticPenalty`), if any.
 */
export function planPenalties(
  penalties: readonly QuadraticPenalty[],
  variables: readonly tf.Variable[],
  accelerated?: QuadraticPenaltyImpl,
): { deferred: VariablePenalties | undefined; onTape: tf.Scalar | undefined } {
  const index = new Map<tf.Tensor, number>(variables.map((v, i) => [v, i]));
  const deferred: VariablePenalty[][] = variables.map(() => []);
  let hasDeferred = false;
  let onTape: tf.Scalar | undefined;
  for (const p of penalties) {
    const rest: QuadraticTerm[] = [];
    for (const t of p.terms) {
      const i = index.get(t.param);
      if (i === undefined || t.anchor.size !== t.param.size || t.importance.size !== t.param.size) rest.push(t);
      else {
        deferred[i]?.push({ anchor: t.anchor, importance: t.importance, scale: p.scale });
        hasDeferred = true;
      }
    }
    if (rest.length > 0) {
      const s = quadraticPenalty(rest, p.scale, accelerated);
      onTape = onTape ? tf.add<tf.Scalar>(onTape, s) : s;
    }
  }
  return { deferred: hasDeferred ? deferred : undefined, onTape };
}

/**
 * The penalties' gradients added to `grads` (aligned with `variables`) with tfjs ops, and their value:
 * the optimizer step's path when no fused step takes it. Returns new tensors where a penalty applies
 * (the caller disposes them), the input tensor elsewhere.
 */
export function addPenaltyGradients(
  grads: ReadonlyArray<tf.Tensor | undefined>,
  variables: readonly tf.Variable[],
  penalties: VariablePenalties,
): { grads: Array<tf.Tensor | undefined>; value: number } {
  const sums: tf.Scalar[] = [];
  const out = grads.map((g, i) => {
    const terms = penalties[i];
    const v = variables[i];
    if (!terms || terms.length === 0 || !v) return g;
    return tf.tidy(() => {
      let total = g ?? tf.zerosLike(v);
      for (const t of terms) {
        const d = tf.sub(v, t.anchor);
        const fd = tf.mul(t.importance, d);
        total = tf.add(total, tf.mul(fd, 2 * t.scale));
        sums.push(tf.keep(tf.mul<tf.Scalar>(tf.sum(tf.mul(fd, d)), t.scale)));
      }
      return total;
    });
  });
  const value = sums.length === 0 ? 0 : tf.tidy(() => tf.addN(sums).dataSync()[0] ?? NaN);
  tf.dispose(sums);
  return { grads: out, value };
}
