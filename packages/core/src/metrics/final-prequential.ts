import type { EngramEventInput } from '../events/engram-event.js';
import type { EventSink } from '../events/event-sink.js';
import type { PrequentialAccuracy, PrequentialSnapshot } from './prequential.js';

/**
 * The `prequential` event of a snapshot at `step`: accuracy figures, the window loss, and a
 * regression stream's MAE/RMSE figures when it has them. Used by the evaluate stage and at the end.
 */
export function prequentialEvent(step: number, snap: PrequentialSnapshot): EngramEventInput {
  return {
    type: 'prequential',
    step,
    samples: snap.samples,
    accuracy: snap.accuracy,
    windowAccuracy: snap.windowAccuracy,
    fadingAccuracy: snap.fadingAccuracy,
    loss: snap.windowLoss,
    ...snap.errors,
  };
}

/**
 * Emits one last `prequential` event with the accumulator's figures over every sample of the stream.
 * The evaluate stage emits one every `logEvery` batches, so without this the summary's
 * `prequential` (the last event) would miss the samples after the last of them. Called by the engine
 * at the end of a stream run, before `run-end`; emits nothing before the first sample.
 */
export function emitFinalPrequential(events: EventSink, prequential: PrequentialAccuracy, step: number): void {
  const snap = prequential.snapshot();
  if (snap.samples === 0) return;
  events.emit(prequentialEvent(step, snap));
}
