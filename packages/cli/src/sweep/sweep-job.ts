import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corePlugin, preparePipeline, runPipeline, type RunSummary } from '@engram/core';
import { VERSION } from '../cli-context.js';
import { CLI_DIR } from './sweep-paths.js';
import type { SweepJob } from './sweep-plan.js';
import { tryRunLock, type LockState } from './run-lock.js';

/** Whether a run folder holds at least one checkpoint to resume from. */
export function hasCheckpoint(outDir: string): boolean {
  const dir = join(outDir, 'checkpoints');
  return existsSync(dir) && readdirSync(dir).some((n) => /^step-\d+$/.test(n));
}

/** Writes `DIR/<name>/pipeline.json` (the combination alone, for `engram run`) and `job.json`. */
export function writeJobFiles(job: SweepJob): string {
  mkdirSync(job.outDir, { recursive: true });
  writeFileSync(join(job.outDir, 'pipeline.json'), `${JSON.stringify(job.doc, null, 2)}\n`);
  const jobFile = join(job.outDir, 'job.json');
  writeFileSync(jobFile, `${JSON.stringify(job, null, 2)}\n`);
  return jobFile;
}

/** The summary.json of a combination whose run completed, or `undefined` (none, unreadable, failed or stopped). */
export function completedSummary(outDir: string): RunSummary | undefined {
  const file = join(outDir, 'summary.json');
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunSummary> | null;
    return s !== null && typeof s === 'object' && s.status === 'completed' ? (s as RunSummary) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one sweep combination in this process with `engram run` semantics (same engine, same outputs
 * in `job.outDir`). Only a combination whose summary.json says `"status": "completed"` is not run
 * again; any other (failed, stopped, unreadable) runs — resuming from its checkpoint if it has one
 * (bit-exact). A run that fails rejects with its one-line cause.
 */
export async function runSweepJob(job: SweepJob, signal?: AbortSignal): Promise<RunSummary> {
  const done = completedSummary(job.outDir);
  if (done) return done;
  mkdirSync(job.outDir, { recursive: true });
  const loaded = await preparePipeline(structuredClone(job.doc), job.baseFile, {
    resolveFrom: [CLI_DIR],
    builtins: [corePlugin],
  });
  const resume = hasCheckpoint(job.outDir);
  const outcome = await runPipeline(loaded, {
    outDir: job.outDir,
    version: VERSION,
    ...(resume ? { resume: true } : {}),
    ...(signal ? { signal } : {}),
  });
  if (outcome.stopped) throw new Error(`combination ${job.name} stopped by ${outcome.stopped}`);
  return outcome.summary;
}

/** Reads a job file written by {@link writeJobFiles}. */
export function readJobFile(file: string): SweepJob {
  return JSON.parse(readFileSync(file, 'utf8')) as SweepJob;
}

/** Options of {@link runLockedSweepJob}. */
export interface LockedRunOptions {
  /** The worker's name, recorded in the lock. */
  readonly worker: string;
  /** The job id, recorded in the lock. */
  readonly job: string;
  /** The lock period: a holder silent this long is taken over (default 60 s). */
  readonly periodMs?: number;
  /** Stops the run at its next batch boundary with a checkpoint. */
  readonly signal?: AbortSignal;
  /** Called once the lock is held, just before the run starts (`resuming`: a checkpoint is there). */
  readonly onStart?: (resuming: boolean) => void;
}

/** The outcome of {@link runLockedSweepJob}: the run's summary, or who holds the combination. */
export type LockedOutcome = { readonly summary: RunSummary } | { readonly heldBy: LockState };

/** One line naming a lock's holder: `worker w (pid 12 on host h, job j, heartbeat 3 s ago)`. */
export function describeHolder(state: LockState): string {
  const h = state.holder;
  const ago = Math.max(0, Math.round((Date.now() - state.heartbeat) / 1000));
  return `${h.worker} (pid ${h.pid} on ${h.host}, job ${h.job}, heartbeat ${ago} s ago)`;
}

/**
 * Runs one combination under its folder's run lock ({@link tryRunLock}): resolves with `heldBy` without
 * running anything when a live process holds the combination, else runs it ({@link runSweepJob}) and
 * releases the lock however the run ends. A holder that finds its lock taken over (it missed its
 * heartbeats for a whole period) stops its run at the next batch with a checkpoint and rejects.
 */
export async function runLockedSweepJob(job: SweepJob, options: LockedRunOptions): Promise<LockedOutcome> {
  mkdirSync(job.outDir, { recursive: true });
  const control = new AbortController();
  let lostTo: string | undefined;
  const attempt = tryRunLock(job.outDir, {
    worker: options.worker,
    job: options.job,
    ...(options.periodMs !== undefined ? { periodMs: options.periodMs } : {}),
    onLost: (by) => {
      lostTo = by ? describeHolder(by) : 'nobody (the lock file was removed)';
      control.abort('lock lost');
    },
  });
  if ('heldBy' in attempt) return attempt;
  const outer = options.signal;
  const forward = (): void => control.abort(outer?.reason);
  if (outer?.aborted) forward();
  outer?.addEventListener('abort', forward, { once: true });
  try {
    options.onStart?.(hasCheckpoint(job.outDir));
    const summary = await runSweepJob(job, control.signal);
    return { summary };
  } catch (e) {
    if (lostTo !== undefined)
      throw new Error(`combination ${job.name}: its run lock was taken over by ${lostTo}; stopped at a checkpoint`, {
        cause: e,
      });
    throw e;
  } finally {
    outer?.removeEventListener('abort', forward);
    attempt.lock.release();
  }
}
