import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry point the end-to-end tests spawn. */
export const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** How a spawned `engram run` ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Step of the first checkpoint this process wrote (a resumed run's is later than a fresh one's). */
  readonly firstCheckpointStep: number | undefined;
}

/** Options of {@link runEngram}. */
export interface RunControl {
  /** Sends `signal` as soon as it returns true for an emitted event line (NDJSON). */
  readonly killWhen?: (line: string) => boolean;
  readonly signal?: NodeJS.Signals;
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the child process (to kill it on an outside condition). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** Sees every event line (NDJSON) as it is printed. */
  readonly onLine?: (line: string) => void;
}

/**
 * Spawns `engram run <file> --out <out> --json …extra` (test helper for the crash/resume tests) and
 * resolves when the process exits.
 */
export function runEngram(
  file: string,
  out: string,
  extra: readonly string[],
  control: RunControl = {},
): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'run', file, '--out', out, '--json', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: control.env ?? process.env,
    });
    control.onSpawn?.(child);
    let buffer = '';
    let stderr = '';
    let sent = false;
    let firstCheckpointStep: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        control.onLine?.(line);
        if (firstCheckpointStep === undefined && line.startsWith('{"type":"checkpoint"'))
          firstCheckpointStep = (JSON.parse(line) as { step: number }).step;
        if (!sent && control.killWhen?.(line)) {
          sent = true;
          child.kill(control.signal ?? 'SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stderr, firstCheckpointStep }));
  });
}

/** summary.json without wall-clock, throughput and memory figures (what must match after a resume). */
export function deterministicSummary(dir: string): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => !/wallSeconds|samplesPerSecond|rss|Rss|^backend$/.test(k))
          .map(([k, x]) => [k, strip(x)]),
      );
    }
    return v;
  };
  return strip(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))) as Record<string, unknown>;
}

/** Checkpoint directories of a run folder, oldest first. */
export function checkpointDirs(dir: string): string[] {
  const root = join(dir, 'checkpoints');
  return readdirSync(root)
    .filter((n) => /^step-\d{12}$/.test(n))
    .sort()
    .map((n) => join(root, n));
}

/** sha256 of the newest checkpoint's model weights and state blob (optimizer slots, strategy state). */
export function finalDigest(dir: string): { step: string; weights: string; state: string } {
  const newest = checkpointDirs(dir).pop() ?? '';
  const h = (p: string): string =>
    createHash('sha256')
      .update(readFileSync(join(newest, p)))
      .digest('hex');
  return { step: newest.slice(-17), weights: h('model/weights.bin'), state: h('state.bin') };
}
