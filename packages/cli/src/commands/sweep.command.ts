import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSweep, sweepJobs } from '../sweep/sweep-plan.js';
import { renderSweepReport } from '../sweep/sweep-report.js';
import { collectResults, writeResults } from '../sweep/sweep-results.js';
import { runDistributed, runLocal, SWEEP_QUEUE } from '../sweep/sweep-runners.js';
import { flagRedisTarget } from '../sweep/redis-reach.js';

/** Flags of `engram sweep`. */
export interface SweepFlags {
  out: string;
  redis?: string;
  /** PEM file of the CA that signed the Redis server's certificate. */
  redisCa?: string;
  parallel?: string;
  queue?: string;
  quiet?: boolean;
  /** Seconds a distributed sweep waits for Redis during an outage before it gives up. */
  redisWait?: string;
}

/** `--redis-wait` in milliseconds (default 120 s). */
function redisWaitMs(flag: string | undefined): number {
  const seconds = Number(flag ?? '120');
  if (!Number.isFinite(seconds) || seconds < 1)
    throw new Error(`--redis-wait must be at least 1 (seconds), got ${flag}`);
  return seconds * 1000;
}

/**
 * `engram sweep sweep.json --out DIR [--redis URL] [--parallel N]`: validates the sweep and every
 * combination (exit 2 with pointer errors), runs one job per combination — through BullMQ workers with
 * `--redis`, else locally N at a time — then writes `DIR/sweep.json` (every combination's ACC / BWT /
 * forgetting, ranked) and `DIR/report.html`, and prints the ranked table. Exit 1 if a combination failed.
 */
export async function sweepCommand(file: string, flags: SweepFlags): Promise<number> {
  const plan = await loadSweep(file);
  const parallel = Number(flags.parallel ?? '1');
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new Error(`--parallel must be a positive integer, got ${flags.parallel}`);
  const outDir = resolve(flags.out);
  mkdirSync(outDir, { recursive: true });
  const jobs = sweepJobs(plan, outDir);
  const log = (line: string): void => {
    if (!flags.quiet) process.stdout.write(`${line}\n`);
  };
  log(
    `sweep ${plan.name}: ${jobs.length} combinations of ${plan.pointers.join(', ')}, ranked by ${plan.metric} (${plan.goal})`,
  );
  const errors = flags.redis
    ? await runDistributed(jobs, flagRedisTarget(flags.redis, flags.redisCa), plan.digest, log, {
        queueName: flags.queue ?? SWEEP_QUEUE,
        outageMs: redisWaitMs(flags.redisWait),
      })
    : await runLocal(jobs, parallel, log);
  const results = collectResults(plan, jobs, errors);
  const json = await writeResults(outDir, results);
  const html = await renderSweepReport(outDir, results);
  log(`\n${results.table}\n\nresults in ${json} and ${html}`);
  return errors.size > 0 ? 1 : 0;
}
