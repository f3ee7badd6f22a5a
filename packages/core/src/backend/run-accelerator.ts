import type * as tf from '@tensorflow/tfjs';
import type { AllFiniteImpl } from '../plugin-api/backend-report.js';
import type { PenalizedApplyImpl } from '../plugin-api/variable-penalty.js';
import type { QuadraticPenaltyImpl } from '../plugin-api/quadratic-penalty.js';

/**
 * The accelerated operations one run may use, chosen when its backend was activated (empty on cpu,
 * tensorflow, or wasm without native kernels). A run holds it in its `RunContext`; nothing here is
 * installed process-wide, so a second run, or the embedding application's own tfjs code, is untouched.
 */
export interface RunAccelerator {
  /** Fused `scale · Σ F·(θ−θ*)²` with its gradient; the trainer uses it for penalty terms on the tape. */
  readonly quadraticPenalty?: QuadraticPenaltyImpl;
  /** Optimizer step with quadratic penalties fused in; `OptimizerHandle.apply` tries it first. */
  readonly applyWithPenalties?: PenalizedApplyImpl;
  /**
   * Gives one optimizer instance the native update (an own `applyGradients`); `OptimizerHandle` calls
   * it on every optimizer it creates. Returns the same instance.
   */
  readonly accelerateOptimizer?: <T extends tf.Optimizer>(optimizer: T) => T;
  /** Whether tensors are all finite in one native pass each; a live run's poisoned-batch check tries it first. */
  readonly allFinite?: AllFiniteImpl;
}

/** No acceleration: the stock tfjs operations. */
export const NO_ACCELERATION: RunAccelerator = Object.freeze({});
