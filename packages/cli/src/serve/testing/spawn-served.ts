import { spawn, type ChildProcess } from 'node:child_process';
import { MAIN } from '../../commands/e2e-harness.js';

/** A spawned `engram …` process that printed its serving address. */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly base: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
}

/** Spawns `node main.js …args` and resolves once stderr announces `http://host:port/` (or https) (rejects if it exits first or after `timeoutMs`). */
export function spawnServed(args: readonly string[], timeoutMs = 60_000): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no serving address within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /(?:serving|on) .*?(https?:\/\/[^\s/]+)\//.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, base: m[1], stderr: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`engram exited (${code}) before serving: ${err}`));
    });
  });
}
