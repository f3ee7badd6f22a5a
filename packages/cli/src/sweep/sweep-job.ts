import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corePlugin, preparePipeline, runPipeline, type RunSummary } from '@engram/core';
import { VERSION } from '../cli-context.js';
import { CLI_DIR } from './sweep-paths.js';
import type { SweepJob } from './sweep-plan.js';

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
