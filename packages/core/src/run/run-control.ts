import type { LoopTurns } from './loop-turns.js';

/**
 * A stop from outside the run (SIGINT/SIGTERM through the run's abort signal), taken by the feed at
 * the next batch boundary so a checkpoint never splits a batch, and the event-loop turns of a serving
 * run. Signals from inside the run travel in its items (a stream boundary: `TestItem.boundary`).
 */
export class RunControl {
  /**
   * @param signal the run's stop signal
   * @param turns event-loop turns inside long synchronous work (evaluation, checkpoints), when the
   *   run was given `RunOptions.yieldEveryMs`; undefined: that work runs in one piece
   */
  constructor(
    private readonly signal?: AbortSignal,
    readonly turns?: LoopTurns,
  ) {}

  /** Why the run was asked to stop (`SIGTERM`, `SIGINT`, the abort reason), or undefined. */
  get stopReason(): string | undefined {
    const s = this.signal;
    return s?.aborted ? String(s.reason ?? 'signal') : undefined;
  }

  /** The abort signal handed to live batch sources so a wait for data ends on a stop. */
  get abortSignal(): AbortSignal | undefined {
    return this.signal;
  }
}
