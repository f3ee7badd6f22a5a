import type { RunState } from '../run/run-state.js';
import type { StateArray } from '../plugin-api/serialized-state.js';
import { checkSlotValues } from '../training/numeric-guard.js';

/**
 * Refuses to checkpoint an optimizer whose slots hold NaN or Infinity (Adam's `v` after an overflow):
 * throws `NumericalError` naming the slot and the cursor, so the last good checkpoint stays the newest.
 * `slots` are the host copies of `optimizer.getWeights()` about to be written, with their names (the
 * first, `iter`, is skipped).
 */
export function checkSnapshotSlots(
  slots: ReadonlyArray<{ name: string; array: StateArray }>,
  cursor: RunState['cursor'],
): void {
  const where =
    `at experience ${cursor.experience}, epoch ${cursor.epoch}, batch ${cursor.batch} (step ` +
    `${cursor.step}); no checkpoint written, the last good one is kept`;
  for (const { name, array } of slots.slice(1))
    if (array.dtype === 'float32') checkSlotValues(name, array.data as Float32Array, where);
}
