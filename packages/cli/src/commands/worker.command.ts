import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { redactUrl } from '@engram/datasets';
import { hasCheckpoint, readJobFile, runSweepJob } from '../sweep/sweep-job.js';
import type { SweepJob } from '../sweep/sweep-plan.js';
import { metricsOf } from '../sweep/sweep-results.js';
import { SWEEP_QUEUE } from '../sweep/sweep-runners.js';
import {
  dedupedErrors,
  flagRedisTarget,
  probeRedis,
  REDIS_REACH_MS,
  sweepConnection,
  within,
} from '../sweep/redis-reach.js';

/** Flags of `engram worker`. */
export interface WorkerFlags {
  redis: string;
  /** PEM file of the CA that signed the Redis server's certificate. */
  redisCa?: string;
  queue?: string;
  lockSeconds?: string;
}

/**
 * `engram worker --redis URL`: runs sweep jobs from the BullMQ queue, one at a time, until SIGINT,
 * SIGTERM or SIGHUP (the current job then stops at a checkpoint and is queued again for another worker).
 * A worker that dies loses its job lock after `--lock-seconds`; BullMQ's stalled-job check in the
 * other workers then moves the job back to the queue, and whoever takes it resumes from its checkpoint.
 */
export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const target = flagRedisTarget(flags.redis, flags.redisCa);
  const lockMs = Math.round(1000 * Number(flags.lockSeconds ?? '30'));
  if (!Number.isFinite(lockMs) || lockMs < 1000)
    throw new Error(`--lock-seconds must be at least 1, got ${flags.lockSeconds}`);
  const queue = flags.queue ?? SWEEP_QUEUE;
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  // An unreachable Redis is one line and exit 1 here, not a worker waiting forever.
  await probeRedis(target);
  let running: AbortController | undefined;
  let settled: Promise<unknown> = Promise.resolve();
  const worker = new Worker(
    queue,
    async (job: Job<SweepJob>) => {
      log(
        `job ${job.id} ${job.data.name}: ${hasCheckpoint(job.data.outDir) ? 'resuming from its checkpoint' : 'starting'}`,
      );
      const control = new AbortController();
      running = control;
      const run = runSweepJob(job.data, control.signal);
      settled = run.catch(() => undefined);
      try {
        return metricsOf(await run);
      } catch (e) {
        // A run that failed (not stopped by a signal) fails the same way again: the engine is
        // deterministic. No retry, and its summary.json says failed, so nothing takes it for done.
        if (control.signal.aborted) throw e;
        throw new UnrecoverableError((e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'failed');
      } finally {
        running = undefined;
      }
    },
    {
      connection: sweepConnection(target),
      concurrency: 1,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: 10,
    },
  );
  worker.on('completed', (job) => log(`job ${job.id} ${job.data.name}: done`));
  worker.on('failed', (job, err) => log(`job ${job?.id ?? '?'} ${job?.data.name ?? ''}: failed: ${err.message}`));
  // One line per distinct error (an outage is not a line per reconnection attempt); the client
  // reconnects by itself when Redis returns.
  worker.on('error', dedupedErrors(log, 'worker error'));
  await worker.waitUntilReady();
  log(`worker ready on queue ${queue} at ${redactUrl(target.url)}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // A closed terminal or dropped ssh session: the same clean stop as SIGTERM, not a lost job.
    process.once('SIGHUP', () => resolve('SIGHUP'));
  });
  // The current job stops after its batch with a checkpoint and fails this attempt; BullMQ queues it
  // again and the next worker resumes it.
  log(`${signal}: stopping${running ? ' the current job at a checkpoint' : ''}`);
  running?.abort(signal);
  // The run stops after its batch with a checkpoint; then the worker closes. After a Redis outage its
  // close can wait on a connection that never recovers: bounded, then the connections are dropped
  // (the attempt then ends as a stalled job, which another worker resumes from the checkpoint).
  await settled;
  const closing = worker.close().then(() => true);
  if ((await within(closing, REDIS_REACH_MS)) === undefined) {
    closing.catch(() => undefined);
    log(`${signal}: Redis did not confirm the close in ${REDIS_REACH_MS / 1000} s; disconnecting`);
    await within(worker.disconnect(), REDIS_REACH_MS);
  }
  return 0;
}

/** `engram sweep-job <job.json>` (internal, used by local sweeps): runs one combination in this process. */
export async function sweepJobCommand(file: string): Promise<number> {
  await runSweepJob(readJobFile(file));
  return 0;
}
