import type { EarlyStoppingSettings } from '../pipeline/validation.schema.js';

/** Early stopping's position within an experience (checkpointed by `TrainingControls`). */
export interface EarlyStoppingState {
  /** Best value so far (null before the first epoch). */
  best: number | null;
  /** Epoch (0-based) of the best value, -1 before the first. */
  bestEpoch: number;
  /** Epochs since the last improvement. */
  bad: number;
}

/** The state of an experience that has not finished an epoch yet. */
export function freshEarlyStopping(): EarlyStoppingState {
  return { best: null, bestEpoch: -1, bad: 0 };
}

/** Whether lower values are better for `settings` (mode, else min unless the metric is accuracy). */
export function lowerIsBetter(settings: EarlyStoppingSettings): boolean {
  return (settings.mode ?? (settings.metric === 'accuracy' ? 'max' : 'min')) === 'min';
}

/**
 * Records one epoch's validation `value` in `state` (mutated) and says what happened: `improved` (a new
 * best: beats the best by more than `minDelta`), `waiting` (no improvement yet, fewer than `patience`
 * epochs in a row) or `stop` (`patience` epochs in a row without improvement). A NaN never improves.
 */
export function observeEpoch(
  settings: EarlyStoppingSettings,
  state: EarlyStoppingState,
  epoch: number,
  value: number,
): 'improved' | 'waiting' | 'stop' {
  const delta = settings.minDelta ?? 0;
  const better =
    !Number.isNaN(value) &&
    (state.best === null || (lowerIsBetter(settings) ? value < state.best - delta : value > state.best + delta));
  if (better) {
    state.best = value;
    state.bestEpoch = epoch;
    state.bad = 0;
    return 'improved';
  }
  state.bad++;
  return state.bad >= settings.patience ? 'stop' : 'waiting';
}
