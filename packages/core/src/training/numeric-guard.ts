import type * as tf from '@tensorflow/tfjs';
import { NumericalError } from './trainer.js';

/**
 * A loss whose magnitude is above this has diverged: float32 arithmetic on values this large overflows
 * to Infinity within a few steps (squares pass 3.4e38 from 1.8e19), and the optimizer's moment
 * estimates fill with Infinity while the weights still look finite.
 */
export const LOSS_LIMIT = 1e12;

/** Optimizer slots are scanned every this many steps (and at every checkpoint). */
export const OPTIMIZER_CHECK_EVERY = 25;

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
    throw new NumericalError(`loss is ${loss.toExponential(2)} ${at(where)}: training diverged (limit ${LOSS_LIMIT.toExponential(0)}); lower the learning rate`);
  }
}

/**
 * Throws {@link NumericalError} when a slot of the optimizer (Adam's `m` and `v`, RMSProp's
 * accumulators, momentum …) holds a NaN or infinite value. `weights` are `optimizer.getWeights()`;
 * the caller keeps ownership.
 */
export function checkOptimizerSlots(weights: ReadonlyArray<{ name: string; tensor: tf.Tensor }>, where: string): void {
  for (const { name, tensor } of weights) {
    if (tensor.dtype !== 'float32') continue;
    const values = tensor.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i] as number)) {
        throw new NumericalError(`optimizer state ${name} holds ${values[i]} ${where}: training diverged; lower the learning rate`);
      }
    }
  }
}

/**
 * The trainer's per-step guard, called once the optimizer has applied the step: the loss (every step)
 * and the optimizer's slots (every {@link OPTIMIZER_CHECK_EVERY} steps and on the first). Throws
 * {@link NumericalError}; the run then ends with that one-line error and the last good checkpoint stays
 * the newest.
 */
export async function guardStep(loss: number, optimizer: tf.Optimizer, where: StepWhere): Promise<void> {
  checkLoss(loss, where);
  if (where.step % OPTIMIZER_CHECK_EVERY !== 0) return;
  const weights = await optimizer.getWeights();
  try {
    checkOptimizerSlots(weights.slice(1), at(where));
  } finally {
    // getWeights() returns the live slot variables after a fresh `iter` scalar: dispose only that scalar.
    weights[0]?.tensor.dispose();
  }
}
