import type * as tf from '@tensorflow/tfjs';
import type { PenalizedApplyImpl } from './variable-penalty.js';
import type { QuadraticPenaltyImpl } from './quadratic-penalty.js';

/** What backend a run got, and why. Reported in `run-start`, the progress line and `summary.json`. */
export interface BackendReport {
  /** What the pipeline (or `--backend`) asked for. */
  readonly requested: BackendName;
  /** The tfjs backend in use (`tf.getBackend()`): `tensorflow`, `wasm` or `cpu`. */
  readonly name: string;
  /** Human-readable description, e.g. `wasm+openblas(openmp, 2 threads)` or `wasm (no BLAS: …)`. */
  readonly description: string;
  /** Backends tried before this one, each with the reason it was not used. */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/**
 * Optional native acceleration for the wasm backend (package `@engram/native`). `load()` registers its
 * kernels and says what it loaded; when it cannot (no suitable BLAS, build missing), it explains why and
 * the pure-wasm kernels stay in place.
 */
export interface NativeAccelerator {
  load(): { readonly loaded: boolean; readonly description: string };
  /** Fused `scale · Σ F·(θ−θ*)²` with its gradient; a run's trainer uses it once `load()` succeeded. */
  quadraticPenalty?: QuadraticPenaltyImpl;
  /** Optimizer step with quadratic penalties fused in; a run's `OptimizerHandle.apply` uses it once `load()` succeeded. */
  applyWithPenalties?: PenalizedApplyImpl;
  /** Native update for one optimizer instance; a run's `OptimizerHandle` applies it to each optimizer it creates. */
  accelerateOptimizer?: <T extends tf.Optimizer>(optimizer: T) => T;
  /** Native finiteness probe; a live run's trainer asks it whether a batch's gradients are finite. */
  allFinite?: AllFiniteImpl;
}

/**
 * Answers "is every value of these tensors finite (no NaN, no ±Infinity)?" without creating a tensor or
 * running a kernel (e.g. one native pass over each tensor's memory), or returns undefined when it cannot
 * answer for these tensors (another backend, another dtype): the caller then probes with tf ops. Called
 * by a live run's trainer once per batch, between backward and the optimizer step; reads only.
 */
export type AllFiniteImpl = (tensors: readonly tf.Tensor[]) => boolean | undefined;

/** The tfjs backends a pipeline can ask for. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
