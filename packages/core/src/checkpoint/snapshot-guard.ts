import type * as tf from '@tensorflow/tfjs';
import type { RunState } from '../engine/run-state.js';
import { checkOptimizerSlots } from '../training/numeric-guard.js';

/**
 * Refuses to checkpoint an optimizer whose slots hold NaN or Infinity (Adam's `v` after an overflow):
 * throws `NumericalError` naming the slot and the cursor, so the last good checkpoint stays the newest.
 * `weights` are `optimizer.getWeights()` (the first, `iter`, is skipped).
 */
export function checkSnapshotSlots(weights: ReadonlyArray<{ name: string; tensor: tf.Tensor }>, cursor: RunState['cursor']): void {
  checkOptimizerSlots(weights.slice(1), `at experience ${cursor.experience}, epoch ${cursor.epoch}, batch ${cursor.batch} (step ${cursor.step}); no checkpoint written, the last good one is kept`);
}
