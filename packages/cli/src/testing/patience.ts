import { availableParallelism, loadavg } from 'node:os';

/**
 * How long a test may wait for a child process, a server or a browser before it calls it hung.
 *
 * `quietMs` is the budget on a quiet 2-core machine; it is stretched by how oversubscribed the machine is
 * when the wait starts (one-minute load average ÷ cores, at least 1) and doubled for load that arrives
 * during the wait, so a suite run at load 10 waits five times as long instead of failing. Set
 * `ENGRAM_TEST_PATIENCE` (a number) to fix the factor instead, e.g. under a debugger.
 *
 * Used only as a guard against a hang: no test asserts anything about how long a step took.
 */
export function patience(quietMs: number): number {
  const fixed = Number(process.env['ENGRAM_TEST_PATIENCE']);
  const factor =
    Number.isFinite(fixed) && fixed > 0 ? fixed : 2 * Math.max(1, loadavg()[0]! / Math.max(1, availableParallelism()));
  return Math.round(quietMs * factor);
}
