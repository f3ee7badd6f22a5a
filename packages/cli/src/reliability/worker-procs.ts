import { spawn, type ChildProcess } from 'node:child_process';
import { MAIN } from '../commands/e2e-harness.js';

/** A spawned CLI process (a sweep or a worker) with its output so far and its exit code. */
export interface Proc {
  readonly child: ChildProcess;
  out: string;
  readonly exited: Promise<number | null>;
}

/**
 * Starts `engram <args>` in `cwd`; stdout and stderr are collected in `out`, and a death by signal is
 * noted there (`[killed by SIGKILL]`). Used by the sweep and worker reliability cases.
 */
export function start(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = {
    child,
    out: '',
    exited: new Promise((r) =>
      child.on('exit', (code, signal) => {
        if (signal !== null) proc.out += `\n[killed by ${signal}]`;
        r(code);
      }),
    ),
  };
  child.stdout?.on('data', (d: Buffer) => (proc.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (proc.out += d.toString()));
  return proc;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `ready` every 100 ms until it holds or `limitMs` passed; returns whether it held. */
export async function until(ready: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!ready()) {
    if (Date.now() > end) return false;
    await sleep(100);
  }
  return true;
}

/** Stops every process still running (SIGTERM) and waits for all of them. */
export async function stopAll(procs: readonly Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
}
