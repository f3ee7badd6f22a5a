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

/**
 * `scale · Σₜ Σᵢ Fₜᵢ (θₜᵢ − θ*ₜᵢ)²`, differentiable with respect to every θ (gradient
 * `2 · scale · F · (θ − θ*)`): the penalty of EWC, online EWC, SI and MAS. Call it from a strategy's
 * `penalty` hook (inside the trainer's tape). With native kernels the value and the gradient of each
 * term are one fused pass each instead of about eight tfjs kernels: pass the run's
 * `accelerated` implementation (`RunContext.accelerator.quadraticPenalty`) to use them.
 */
export function quadraticPenalty(
  terms: readonly QuadraticTerm[],
  scale: number,
  accelerated?: QuadraticPenaltyImpl,
): tf.Scalar {
  if (accelerated && terms.length > 0) return accelerated(terms, scale);
  return tf.tidy(() => {
    if (terms.length === 0) return tf.scalar(0);
    const sums = terms.map((t) => tf.sum(tf.mul(t.importance, tf.square(tf.sub(t.param, t.anchor)))));
    return tf.mul<tf.Scalar>(sums.length === 1 ? (sums[0] as tf.Scalar) : tf.addN(sums), scale);
  });
}

/**
 * A quadratic penalty `scale · Σ F·(θ−θ*)²` described rather than computed: what EWC, online EWC, SI
 * and MAS return from their `penalty` hook. The trainer adds it to the loss with coefficient 1. Terms
 * whose `param` is a trainable variable are not put on the gradient tape: their gradient
 * `2·scale·F·(θ−θ*)` is added at the optimizer step — with native kernels inside the optimizer's own
 * pass over the weights, so a penalty costs two more reads per weight instead of about ten. Other
 * terms (e.g. a slice of a grown head), and all terms when a strategy has an `afterBackward` hook that
 * must see the full gradient (A-GEM, SI), go through {@link quadraticPenalty} on the tape.
 *
 * A strategy that needs the penalty as a tensor (to scale it, or to combine it non-linearly) calls
 * {@link QuadraticPenalty.toScalar} — or {@link quadraticPenalty} — inside the tape instead.
 */
export class QuadraticPenalty {
  /** Discriminates it from a `tf.Scalar` across package copies. */
  readonly kind = 'quadratic-penalty' as const;

  constructor(
    /** The terms; their tensors must stay alive until the training step that received them ends. */
    readonly terms: readonly QuadraticTerm[],
    /** The factor in front of the sum (EWC: λ/2; SI: c; MAS: λ). */
    readonly scale: number,
  ) {}

  /** The penalty as a differentiable scalar (call inside a tape to get its gradient); `accelerated` as in {@link quadraticPenalty}. */
  toScalar(accelerated?: QuadraticPenaltyImpl): tf.Scalar {
    return quadraticPenalty(this.terms, this.scale, accelerated);
  }
}

/** True for a {@link QuadraticPenalty} (also one created by another copy of this package). */
export function isQuadraticPenalty(value: unknown): value is QuadraticPenalty {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'quadratic-penalty';
}
