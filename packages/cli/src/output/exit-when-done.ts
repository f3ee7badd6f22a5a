/**
 * How long the process may stay alive after a command has finished before Engram ends it. A finished
 * command has written and closed everything it owns (summary.json, checkpoints, servers), so whatever
 * still holds the event loop open is a leak — a timer, a socket or a worker a plugin or a failure path
 * left behind — and would otherwise keep `engram` (and the script or CI job waiting on it) hanging.
 */
export const EXIT_GRACE_MS = 5_000;

/**
 * Called once by the CLI when a command's action has settled and `process.exitCode` is set. Arms an
 * unreferenced timer: when nothing else is left the process exits normally and the timer never fires;
 * when something is, the process says what it was waiting on (one line on stderr) and exits with the
 * command's code after {@link EXIT_GRACE_MS}. Touches nothing but that timer and, if it fires, stderr.
 */
export function exitWhenDone(graceMs: number = EXIT_GRACE_MS): void {
  const timer = setTimeout(() => {
    const open = openResources();
    process.stderr.write(
      `engram: still busy ${Math.round(graceMs / 1000)} s after the command finished${open ? ` (open: ${open})` : ''}; exiting\n`,
    );
    process.exit();
  }, graceMs);
  timer.unref();
}

/** The kinds of resource still holding the event loop, counted (`TCPSocketWrap ×2, Timeout`). */
function openResources(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind)).join(', ');
}
