import { availableParallelism, loadavg } from 'node:os';

/** The largest stretch {@link patience} applies from the load average (load 12 on 2 cores). */
export const MAX_PATIENCE_FACTOR = 12;

/**
 * How long a test may wait for a child process, a server or a browser before it calls it hung.
 *
 * `quietMs` is the budget on a quiet 2-core machine; it is stretched by how oversubscribed the machine is
 * when the wait starts (one-minute load average ÷ cores, at least 1) and doubled for load that arrives
 * during the wait, so at load 10 on 2 cores a wait is ten times its quiet budget instead of a failure. Set
 * `ENGRAM_TEST_PATIENCE` (a number) to fix the factor instead, e.g. under a debugger.
 *
 * The factor is capped at {@link MAX_PATIENCE_FACTOR}: a container can report its host's load average
 * (load 50 on a 2-core slice), and an uncapped guard then waits hours on a real hang instead of failing
 * the test with the hung process's output.
 *
 * Used only as a guard against a hang: no test asserts anything about how long a step took.
 */
export function patience(quietMs: number): number {
  const fixed = Number(process.env['ENGRAM_TEST_PATIENCE']);
  const factor =
    Number.isFinite(fixed) && fixed > 0
      ? fixed
      : Math.min(MAX_PATIENCE_FACTOR, 2 * Math.max(1, loadavg()[0]! / Math.max(1, availableParallelism())));
  return Math.round(quietMs * factor);
}
