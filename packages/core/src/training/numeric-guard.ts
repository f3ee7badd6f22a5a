import type * as tf from '@tensorflow/tfjs';

/** Error raised when a step produces a NaN or infinite loss. */
export class NumericalError extends Error {}

/**
 * A loss whose magnitude is above this has diverged: float32 arithmetic on values this large overflows
 * to Infinity within a few steps (squares pass 3.4e38 from 1.8e19), and the optimizer's moment
 * estimates fill with Infinity while the weights still look finite.
 */
export const LOSS_LIMIT = 1e12;

/** Optimizer slots are scanned every this many steps (and at every checkpoint). */
export const OPTIMIZER_CHECK_EVERY = 25;

/**
 * …and at most once per this many milliseconds of training: a scan reads every slot (Adam: twice the
 * model), so at batch 1 — a step of 2–3 ms — a scan every 25 steps would put 4 % of all steps in the
 * latency tail. A scan changes no value, so spacing it by time keeps every run's results identical.
 */
export const OPTIMIZER_CHECK_INTERVAL_MS = 1000;

/** Where a step was, for the error message. */
export interface StepWhere {
  readonly experience: number;
  readonly epoch: number;
  readonly step: number;
}

const at = (w: StepWhere): string => `at experience ${w.experience}, epoch ${w.epoch}, step ${w.step}`;

/** Throws {@link NumericalError} for a loss that is NaN, infinite or above {@link LOSS_LIMIT} in magnitude. */
export function checkLoss(loss: number, where: StepWhere): void {
  if (!Number.isFinite(loss)) throw new NumericalError(`loss is ${loss} ${at(where)}`);
  if (Math.abs(loss) > LOSS_LIMIT) {
    throw new NumericalError(
      `loss is ${loss.toExponential(2)} ${at(where)}: training diverged (limit ${LOSS_LIMIT.toExponential(0)}); lower the learning rate`,
    );
  }
}

/**
 * Throws {@link NumericalError} when a slot of the optimizer (Adam's `m` and `v`, RMSProp's
 * accumulators, momentum …) holds a NaN or infinite value. `weights` are `optimizer.getWeights()`;
 * the caller keeps ownership.
 */
export function checkOptimizerSlots(weights: ReadonlyArray<{ name: string; tensor: tf.Tensor }>, where: string): void {
  for (const { name, tensor } of weights) {
    if (tensor.dtype === 'float32') checkSlotValues(name, tensor.dataSync() as Float32Array, where);
  }
}

/**
 * Throws {@link NumericalError} when the host copy `values` of optimizer slot `name` holds a NaN or an
 * infinite value (the checkpoint path scans the copy it is about to write instead of reading the slot twice).
 */
export function checkSlotValues(name: string, values: Float32Array, where: string): void {
  const i = firstNonFinite(values);
  if (i >= 0)
    throw new NumericalError(
      `optimizer state ${name} holds ${values[i]} ${where}: training diverged; lower the learning rate`,
    );
}

/** Index of the first NaN or ±Infinity in `values`, or -1. `x - x` is 0 exactly for finite `x`. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * The trainer's per-step guard, called once the optimizer has applied the step: the loss (every step)
 * and the optimizer's slots (every {@link OPTIMIZER_CHECK_EVERY} steps, at most once per
 * `intervalMs`, default {@link OPTIMIZER_CHECK_INTERVAL_MS}; the first due scan always runs). Throws
 * {@link NumericalError}; the run then ends with that one-line error and the last good checkpoint stays
 * the newest. One per trainer.
 */
export class StepGuard {
  private lastScan = Number.NEGATIVE_INFINITY;

  constructor(private readonly intervalMs = OPTIMIZER_CHECK_INTERVAL_MS) {}

  /** Called once the optimizer has applied a step; throws {@link NumericalError}. */
  async afterStep(loss: number, optimizer: tf.Optimizer, where: StepWhere): Promise<void> {
    checkLoss(loss, where);
    if (where.step % OPTIMIZER_CHECK_EVERY !== 0) return;
    const now = performance.now();
    if (now - this.lastScan < this.intervalMs) return;
    this.lastScan = now;
    await scanSlots(optimizer, where);
  }
}

async function scanSlots(optimizer: tf.Optimizer, where: StepWhere): Promise<void> {
  const weights = await optimizer.getWeights();
  try {
    checkOptimizerSlots(weights.slice(1), at(where));
  } finally {
    // getWeights() returns the live slot variables after a fresh `iter` scalar: dispose only that scalar.
    weights[0]?.tensor.dispose();
  }
}
