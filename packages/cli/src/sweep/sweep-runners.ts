import { spawn } from 'node:child_process';
import { Queue, type JobState } from 'bullmq';
import { CLI_MAIN } from './sweep-paths.js';
import { redactUrl, type RedisTarget } from '@engram/datasets';
import { writeJobFiles } from './sweep-job.js';
import { dedupedErrors, OutageClock, probeRedis, REDIS_REACH_MS, sweepConnection, within } from './redis-reach.js';
import type { SweepJob } from './sweep-plan.js';

/** The BullMQ queue sweeps and workers share unless told otherwise. */
export const SWEEP_QUEUE = 'engram-sweep';

/** Receives one progress line. */
export type ProgressLog = (line: string) => void;

/**
 * Runs the combinations on this machine, `parallel` at a time, each in its own `engram sweep-job`
 * process (tfjs state is per process, so runs cannot disturb each other). Resolves with the error of
 * each failed combination, by name.
 */
export async function runLocal(
  jobs: readonly SweepJob[],
  parallel: number,
  log: ProgressLog,
): Promise<Map<string, string>> {
  const errors = new Map<string, string>();
  const queue = [...jobs];
  let finished = 0;
  const one = (job: SweepJob): Promise<void> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI_MAIN, 'sweep-job', writeJobFiles(job)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      child.on('exit', (code, signal) => {
        finished++;
        if (code !== 0) errors.set(job.name, stderr.trim().split('\n').pop() ?? `exit ${code ?? signal}`);
        log(
          `[${finished}/${jobs.length}] ${job.name} ${code === 0 ? 'done' : `failed: ${errors.get(job.name) ?? ''}`}`,
        );
        resolve();
      });
    });
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) await one(job);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, lane));
  return errors;
}

/** How often a lost job (gone from Redis) is queued again before the sweep reports it failed. */
export const LOST_JOB_REQUEUES = 3;

/** Options of {@link runDistributed}. */
export interface DistributedOptions {
  readonly queueName?: string;
  readonly pollMs?: number;
  /** How long the sweep waits for Redis during an outage before it gives up (default 120 s). */
  readonly outageMs?: number;
}

/**
 * Enqueues one BullMQ job per combination on `url` and waits until every one is completed or failed,
 * logging progress as it changes; `engram worker` processes (any number, on any machine sharing the
 * output folder) run them. Job ids are `<sweep digest>-<time>-<index>`; a job gets 3 attempts (a
 * worker stopped by SIGTERM fails its attempt after a checkpoint, and the next attempt resumes).
 *
 * Redis: an unreachable server is one line before anything is enqueued ({@link probeRedis}); during
 * the sweep an outage is waited out up to `outageMs` ({@link OutageClock}), and a job Redis no longer
 * knows (restarted without persistence) is queued again — its combination resumes from its
 * checkpoint, or is found completed — up to {@link LOST_JOB_REQUEUES} times, then reported failed.
 */
export async function runDistributed(
  jobs: readonly SweepJob[],
  target: RedisTarget,
  digest: string,
  log: ProgressLog,
  options: DistributedOptions = {},
): Promise<Map<string, string>> {
  const queueName = options.queueName ?? SWEEP_QUEUE;
  const url = target.url;
  await probeRedis(target);
  const queue = new Queue(queueName, { connection: sweepConnection(target) });
  queue.on('error', dedupedErrors(log, 'redis'));
  const clock = new OutageClock(url, options.outageMs ?? 120_000, log);
  const errors = new Map<string, string>();
  try {
    for (const job of jobs) writeJobFiles(job);
    const stamp = `${digest}-${Date.now().toString(36)}`;
    const week = 7 * 24 * 3600;
    const spec = (job: SweepJob) => ({
      name: job.name,
      data: job,
      opts: {
        jobId: `${stamp}-${job.index}`,
        attempts: 3,
        removeOnComplete: { age: week },
        removeOnFail: { age: week },
      },
    });
    const added = await queue.addBulk(jobs.map(spec));
    log(
      `enqueued ${added.length} jobs on queue ${queueName}; start workers with: engram worker --redis ${redactUrl(url)}`,
    );
    const ids = added.map((j) => j.id as string);
    const requeued = new Map<string, number>();
    let last = '';
    for (;;) {
      const polling = Promise.all(ids.map((id) => queue.getJobState(id)));
      let states: Array<JobState | 'unknown'> | undefined;
      while ((states = await within(polling, REDIS_REACH_MS)) === undefined) clock.waiting();
      clock.answered();
      for (const [i, state] of states.entries()) {
        const job = jobs[i];
        const id = ids[i];
        if (state !== 'unknown' || job === undefined || id === undefined || errors.has(job.name)) continue;
        const times = (requeued.get(id) ?? 0) + 1;
        requeued.set(id, times);
        if (times > LOST_JOB_REQUEUES) {
          errors.set(
            job.name,
            `its job was lost by Redis ${LOST_JOB_REQUEUES} times (a server restarted without its data?)`,
          );
          log(`${job.name} failed: its job was lost by Redis ${LOST_JOB_REQUEUES} times`);
          continue;
        }
        const again = spec(job);
        await queue.add(again.name, again.data, again.opts);
        log(`${job.name}: its job is gone from Redis (a server restarted without its data?); queued again`);
      }
      const lost = (i: number): boolean => errors.has(jobs[i]?.name ?? '');
      const count = (s: JobState | 'unknown'): number => states.filter((x, i) => x === s && !lost(i)).length;
      const done = count('completed') + count('failed') + errors.size;
      const waiting = count('waiting') + count('prioritized') + count('delayed') + count('unknown');
      const line =
        `[${done}/${ids.length}] ${count('completed')} done, ${count('failed') + errors.size} failed, ` +
        `${count('active')} running, ${waiting} waiting`;
      if (line !== last) log(line);
      last = line;
      if (done === ids.length) break;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
    for (const [i, id] of ids.entries()) {
      const name = jobs[i]?.name ?? id;
      if (errors.has(name)) continue;
      const job = await queue.getJob(id);
      if (job && (await job.getState()) === 'failed') errors.set(name, job.failedReason);
    }
  } finally {
    // close() sends QUIT, which waits for a Redis that is away (the sweep may be giving up on one):
    // bounded, then the connection is dropped.
    const closing = queue.close().then(() => true);
    if ((await within(closing, REDIS_REACH_MS)) === undefined) {
      closing.catch(() => undefined);
      await within(queue.disconnect(), REDIS_REACH_MS);
    }
  }
  return errors;
}
