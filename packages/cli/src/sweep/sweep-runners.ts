import { spawn } from 'node:child_process';
import { Queue, type JobState } from 'bullmq';
import { CLI_MAIN } from './sweep-paths.js';
import { writeJobFiles } from './sweep-job.js';
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

/**
 * Enqueues one BullMQ job per combination on `url` and waits until every one is completed or failed,
 * logging progress as it changes; `engram worker` processes (any number, on any machine sharing the
 * output folder) run them. Job ids are `<sweep digest>-<time>-<index>`; a job gets 3 attempts (a
 * worker stopped by SIGTERM fails its attempt after a checkpoint, and the next attempt resumes).
 */
export async function runDistributed(
  jobs: readonly SweepJob[],
  url: string,
  digest: string,
  log: ProgressLog,
  queueName = SWEEP_QUEUE,
  pollMs = 500,
): Promise<Map<string, string>> {
  const queue = new Queue(queueName, { connection: { url, maxRetriesPerRequest: null } });
  const errors = new Map<string, string>();
  try {
    for (const job of jobs) writeJobFiles(job);
    const stamp = `${digest}-${Date.now().toString(36)}`;
    const week = 7 * 24 * 3600;
    const added = await queue.addBulk(
      jobs.map((job) => ({
        name: job.name,
        data: job,
        opts: {
          jobId: `${stamp}-${job.index}`,
          attempts: 3,
          removeOnComplete: { age: week },
          removeOnFail: { age: week },
        },
      })),
    );
    log(`enqueued ${added.length} jobs on queue ${queueName}; start workers with: engram worker --redis ${url}`);
    const ids = added.map((j) => j.id as string);
    let last = '';
    for (;;) {
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      const count = (s: JobState | 'unknown'): number => states.filter((x) => x === s).length;
      const done = count('completed') + count('failed');
      const line =
        `[${done}/${ids.length}] ${count('completed')} done, ${count('failed')} failed, ` +
        `${count('active')} running, ${count('waiting') + count('prioritized') + count('delayed')} waiting`;
      if (line !== last) log(line);
      last = line;
      if (done === ids.length) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    for (const [i, id] of ids.entries()) {
      const job = await queue.getJob(id);
      if (job && (await job.getState()) === 'failed') errors.set(jobs[i]?.name ?? id, job.failedReason);
    }
  } finally {
    await queue.close();
  }
  return errors;
}
