import * as tf from '@tensorflow/tfjs';

/** One importance-weighted quadratic term: F · (θ − θ*)² summed over a parameter's elements. */
export interface QuadraticTerm {
  /** The parameter θ (a trainable variable). */
  readonly param: tf.Tensor;
  /** Its anchor θ* (the value after a past experience). */
  readonly anchor: tf.Tensor;
  /** Per-element importance F (Fisher diagonal, SI or MAS weights). */
  readonly importance: tf.Tensor;
}

/** A faster implementation of {@link quadraticPenalty} (e.g. native kernels); same value and gradient. */
export type QuadraticPenaltyImpl = (terms: readonly QuadraticTerm[], scale: number) => tf.Scalar;

let accelerated: QuadraticPenaltyImpl | undefined;

/**
 * Installs (or, with `undefined`, removes) an accelerated implementation of {@link quadraticPenalty}.
 * The backend selector calls it when a native accelerator that provides one has loaded.
 */
export function useAcceleratedQuadraticPenalty(impl: QuadraticPenaltyImpl | undefined): void {
  accelerated = impl;
}

/**
 * `scale · Σₜ Σᵢ Fₜᵢ (θₜᵢ − θ*ₜᵢ)²`, differentiable with respect to every θ (gradient
 * `2 · scale · F · (θ − θ*)`): the penalty of EWC, online EWC, SI and MAS. Call it from a strategy's
 * `penalty` hook (inside the trainer's tape). With native kernels the value and the gradient of each
 * term are one fused pass each instead of about eight tfjs kernels.
 */
export function quadraticPenalty(terms: readonly QuadraticTerm[], scale: number): tf.Scalar {
  if (accelerated && terms.length > 0) return accelerated(terms, scale);
  return tf.tidy(() => {
    if (terms.length === 0) return tf.scalar(0);
    const sums = terms.map((t) => tf.sum(tf.mul(t.importance, tf.square(tf.sub(t.param, t.anchor)))));
    return tf.mul(sums.length === 1 ? (sums[0] as tf.Scalar) : tf.addN(sums), scale) as tf.Scalar;
  });
}
