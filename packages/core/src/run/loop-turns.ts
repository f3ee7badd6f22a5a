/**
 * Turns of the event loop inside a run's long synchronous work (evaluation over many test batches, a
 * checkpoint's capture and encoding), for a process that answers requests while it trains
 * (`RunOptions.yieldEveryMs`, e.g. a service answering requests on the training thread). Training on a synchronous backend never leaves
 * the microtask queue; a request, a timer or a signal waits for the next macrotask turn. A turn is
 * one `setImmediate`: it changes when work happens, never what it computes.
 */
export class LoopTurns {
  private last = performance.now();
  /** Turns taken so far (tests and diagnostics). */
  taken = 0;

  /**
   * @param everyMs longest time (ms) between two turns; 0 turns at every chance
   * @param maxRows at most this many rows per synchronous forward pass of evaluation (the training
   *   batch size: evaluation then holds the loop no longer than a training step does)
   */
  constructor(
    readonly everyMs: number,
    readonly maxRows: number,
  ) {}

  /** Whether `everyMs` has passed since the last turn. */
  get due(): boolean {
    return performance.now() - this.last >= this.everyMs;
  }

  /** Lets the event loop turn once. */
  async turn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.taken++;
    this.last = performance.now();
  }

  /** Turns the loop if one is due (call between chunks of synchronous work). */
  async breathe(): Promise<void> {
    if (this.due) await this.turn();
  }
}
