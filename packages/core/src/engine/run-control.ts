import type { LoopTurns } from './loop-turns.js';

/**
 * Requests that change the course of a run between two items of its feed: a boundary detected in a
 * stream (the evaluate stage asks, the feed ends the experience and starts the next before training
 * the batch) and a stop (SIGINT/SIGTERM through the run's abort signal, taken at the next batch
 * boundary). The feed reads them only at those points, so a checkpoint never splits a batch.
 */
export class RunControl {
  private boundary: string | undefined;

  /**
   * @param signal the run's stop signal
   * @param turns event-loop turns inside long synchronous work (evaluation, checkpoints), when the
   *   run was given `RunOptions.yieldEveryMs`; undefined: that work runs in one piece
   */
  constructor(
    private readonly signal?: AbortSignal,
    readonly turns?: LoopTurns,
  ) {}

  /** Asks the feed to end the current stream experience before the batch being tested is trained on. */
  requestBoundary(reason: string): void {
    this.boundary = reason;
  }

  /** The pending boundary request (cleared by reading it). */
  takeBoundary(): string | undefined {
    const b = this.boundary;
    this.boundary = undefined;
    return b;
  }

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
