/**
 * Raised inside the loop when the run was asked to stop (SIGINT/SIGTERM through the abort signal) and
 * the current batch and checkpoint are done. The engine turns it into a normal, `stopped` outcome.
 */
export class RunStopped extends Error {
  constructor(readonly reason: string) {
    super(`run stopped: ${reason}`);
    this.name = 'RunStopped';
  }
}
