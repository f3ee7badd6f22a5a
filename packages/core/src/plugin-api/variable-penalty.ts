import type * as tf from '@tensorflow/tfjs';

/** One quadratic term on a trainable variable, applied at the optimizer step: `scale · Σ F·(θ−θ*)²`. */
export interface VariablePenalty {
  /** θ*, the variable's shape. */
  readonly anchor: tf.Tensor;
  /** F, the variable's shape. */
  readonly importance: tf.Tensor;
  /** The factor in front of the sum; the gradient is `2 · scale · F · (θ − θ*)`. */
  readonly scale: number;
}

/** Penalty terms per trainable variable, in the order of the variable list (undefined: none). */
export type VariablePenalties = ReadonlyArray<readonly VariablePenalty[] | undefined>;

/**
 * Applies `grads` (aligned with the optimizer's variables) and the gradients of `penalties` in one
 * fused optimizer pass; returns the penalties' value at the weights before the update, or undefined —
 * having changed nothing — when it cannot (then the caller adds the gradients with tfjs ops).
 */
export type PenalizedApplyImpl = (
  optimizer: tf.Optimizer,
  grads: ReadonlyArray<{ name: string; tensor: tf.Tensor }>,
  penalties: VariablePenalties,
) => number | undefined;
