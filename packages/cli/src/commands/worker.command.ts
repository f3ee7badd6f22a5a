import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { redactUrl } from '@engram/datasets';
import { describeHolder, readJobFile, runLockedSweepJob } from '../sweep/sweep-job.js';
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
  /** Seconds without a heartbeat after which a combination's run lock (`run.lock`) is stale. */
  runLockSeconds?: string;
}

/** Seconds of a `--…-seconds` flag in milliseconds, at least 1 s. */
function secondsFlag(name: string, value: string | undefined, fallback: string): number {
  const ms = Math.round(1000 * Number(value ?? fallback));
  if (!Number.isFinite(ms) || ms < 1000) throw new Error(`--${name} must be at least 1, got ${value}`);
  return ms;
}

/** How long a job whose combination another process runs waits before it is tried again: 2 s, doubling up to `capMs`. */
export function deferMs(times: number, capMs: number): number {
  return Math.min(capMs, 2000 * 2 ** Math.min(times, 10));
}

/**
 * `engram worker --redis URL`: runs sweep jobs from the BullMQ queue, one at a time, until SIGINT,
 * SIGTERM or SIGHUP (the current job then stops at a checkpoint and is queued again for another worker).
 * A worker that dies loses its job lock after `--lock-seconds`; BullMQ's stalled-job check in the
 * other workers then moves the job back to the queue, and whoever takes it resumes from its checkpoint.
 */
export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const target = flagRedisTarget(flags.redis, flags.redisCa);
  const lockMs = secondsFlag('lock-seconds', flags.lockSeconds, '30');
  const runLockMs = secondsFlag('run-lock-seconds', flags.runLockSeconds, '60');
  const me = `worker ${hostname()}:${process.pid}`;
  const deferrals = new Map<string, number>();
  const queue = flags.queue ?? SWEEP_QUEUE;
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  // An unreachable Redis is one line and exit 1 here, not a worker waiting forever.
  await probeRedis(target);
  let running: AbortController | undefined;
  let settled: Promise<unknown> = Promise.resolve();
  const worker = new Worker(
    queue,
    async (job: Job<SweepJob>, token?: string) => {
      const control = new AbortController();
      running = control;
      const id = job.id ?? '?';
      const run = runLockedSweepJob(job.data, {
        worker: me,
        job: id,
        periodMs: runLockMs,
        signal: control.signal,
        onStart: (resuming) =>
          log(`job ${id} ${job.data.name}: ${resuming ? 'resuming from its checkpoint' : 'starting'}`),
      });
      settled = run.catch(() => undefined);
      let deferring = false;
      try {
        const outcome = await run;
        if ('heldBy' in outcome) {
          // The job was handed out twice (Redis forgot it, or its BullMQ lock expired while the run
          // went on): the combination's run lock says who runs it. Wait, do not run it a second time.
          const times = deferrals.get(id) ?? 0;
          deferrals.set(id, times + 1);
          const wait = deferMs(times, runLockMs);
          log(
            `job ${id} ${job.data.name}: already running in ${describeHolder(outcome.heldBy)}; ` +
              `trying again in ${Math.round(wait / 1000)} s`,
          );
          deferring = true;
          await job.moveToDelayed(Date.now() + wait, token);
          throw new DelayedError();
        }
        deferrals.delete(id);
        return metricsOf(outcome.summary);
      } catch (e) {
        // Deferred, or the deferral itself failed (Redis lost the job again): not the run's failure.
        if (e instanceof DelayedError || deferring) throw e;
        // A run that failed (not stopped by a signal) fails the same way again: the engine is
        // deterministic. No retry, and its summary.json says failed, so nothing takes it for done.
        if (control.signal.aborted || /its run lock was taken over/.test(String(e))) throw e;
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

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `engram sweep-job <job.json>` (internal, used by local sweeps): runs one combination in this process
 * under its run lock. A combination another process is running is refused with one line (exit 1);
 * SIGINT/SIGTERM/SIGHUP stop the run at a checkpoint and release the lock (exit 130/143/129).
 */
export async function sweepJobCommand(file: string): Promise<number> {
  const job = readJobFile(file);
  const control = new AbortController();
  let code = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    code = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[signal as string] ?? 143;
    control.abort(signal);
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  try {
    const outcome = await runLockedSweepJob(job, {
      worker: `sweep ${hostname()}:${process.pid}`,
      job: 'local',
      signal: control.signal,
    });
    if ('heldBy' in outcome)
      throw new Error(
        `combination ${job.name} is already running in ${describeHolder(outcome.heldBy)}; not started twice`,
      );
  } catch (e) {
    if (code === 0) throw e;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
  return code;
}
