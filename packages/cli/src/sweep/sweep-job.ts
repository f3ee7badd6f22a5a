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

/**
 * Runs one sweep combination in this process with `engram run` semantics (same engine, same outputs
 * in `job.outDir`). A finished combination (its summary.json exists) is not run again; one with a
 * checkpoint — its previous worker was killed — resumes from it (bit-exact).
 */
export async function runSweepJob(job: SweepJob, signal?: AbortSignal): Promise<RunSummary> {
  const summaryFile = join(job.outDir, 'summary.json');
  if (existsSync(summaryFile)) {
    const done = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;
    if (done.stopped === null) return done;
  }
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
