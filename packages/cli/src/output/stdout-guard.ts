/**
 * What a closed standard output (`engram … | head -2`, EPIPE) does. By default the command exits 0 at
 * once (`engram plugins | head` is not an error). While a run is going, {@link keepRunningOnClosedStdout}
 * makes further output a no-op instead, so the run still finishes and writes its files
 * (`summary.json`, `metrics.jsonl`, checkpoints) before it exits.
 */
let keepRunning = false;
let closed = false;

/** Installs the EPIPE handler on `process.stdout`; call once at start-up. */
export function guardStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (!keepRunning) process.exit(0);
    if (closed) return;
    closed = true;
    // nobody reads any more: drop whatever the run still prints
    process.stdout.write = () => true;
  });
}

/** While `on`, a closed stdout no longer ends the process (a run in progress). */
export function keepRunningOnClosedStdout(on: boolean): void {
  keepRunning = on;
}

/** True once a reader closed stdout during a run. */
export function stdoutClosed(): boolean {
  return closed;
}
