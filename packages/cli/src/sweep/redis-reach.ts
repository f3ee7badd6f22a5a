import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import {
  expandEnv,
  fatalRedisError,
  redactUrl,
  redisTarget,
  redisTlsOptions,
  type RedisTarget,
} from '@engram/datasets';

/** How long one attempt to reach Redis may take before it counts as unreachable (connect, then PING). */
export const REDIS_REACH_MS = 5000;

/** Receives one progress or warning line. */
export type LineLog = (line: string) => void;

/**
 * The Redis target of a command's `--redis URL` and `--redis-ca FILE` flags (`${NAME}` in the URL
 * expands from the environment, so the password need not be on the command line; the CA file is
 * relative to the working directory).
 */
export function flagRedisTarget(url: string, ca: string | undefined): RedisTarget {
  return redisTarget(expandEnv(url, process.env, '--redis'), ca, process.cwd(), '--redis-ca');
}

/**
 * The connection options BullMQ queues and workers of sweeps get: commands wait while Redis is away
 * (`maxRetriesPerRequest: null`, BullMQ's requirement for workers) and the client reconnects with a
 * backoff up to 2 s, forever — so a Redis that returns is picked up again. Callers bound how long they
 * wait themselves ({@link probeRedis} first, then {@link OutageClock}). AUTH from the URL, TLS from a
 * `rediss://` URL or the target's CA file.
 */
export function sweepConnection(target: RedisTarget | string): ConnectionOptions {
  const t = typeof target === 'string' ? { url: target } : target;
  return {
    url: t.url,
    ...redisTlsOptions(t),
    maxRetriesPerRequest: null,
    connectTimeout: REDIS_REACH_MS,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
}

/**
 * Connects once to `url` and sends PING, within {@link REDIS_REACH_MS}: a sweep or worker calls it
 * before it creates its BullMQ clients, so an unreachable Redis is one line and exit 1, not a hang.
 * Throws `cannot reach Redis at <url>: <reason>` (password redacted; a refused password or an untrusted
 * certificate says so).
 */
export async function probeRedis(target: RedisTarget | string, timeoutMs = REDIS_REACH_MS): Promise<void> {
  const t = typeof target === 'string' ? { url: target } : target;
  const url = t.url;
  const client = new Redis(url, {
    ...redisTlsOptions(t),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let last: Error | undefined;
  client.on('error', (e: Error) => (last = e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const cause = last ?? (e as Error);
    const fatal = fatalRedisError(cause) ?? fatalRedisError(e as Error);
    if (fatal !== undefined) throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${fatal}`, { cause: e });
    const code = (cause as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot reach Redis at ${redactUrl(url)}: ${code ?? (redactUrl(cause.message.split('\n')[0] ?? '') || 'no answer')}` +
        ' (is it running, and is the URL right?)',
      { cause: e },
    );
  } finally {
    client.disconnect();
  }
}

/**
 * Calls `log` with a client's error only when it differs from the previous one: an outage prints one
 * line, not one per reconnection attempt, and never a stack.
 */
export function dedupedErrors(log: LineLog, prefix: string): (e: Error) => void {
  let last = '';
  return (e: Error) => {
    const code = (e as NodeJS.ErrnoException).code;
    const line = `${prefix}: ${typeof code === 'string' && code !== '' ? code : e.message.split('\n')[0] || 'error'}`;
    if (line !== last) log(line);
    last = line;
  };
}

/**
 * Bounds how long a sweep waits for Redis during its run. `answered()` after every command that came
 * back; `waiting()` while one has not, which logs once when an outage starts and throws once it has
 * lasted `limitMs` (the sweep then stops with one line; every combination's folder keeps its
 * checkpoints, and running the sweep again resumes them).
 */
export class OutageClock {
  private since: number | undefined;

  constructor(
    private readonly url: string,
    private readonly limitMs: number,
    private readonly log: LineLog,
  ) {}

  /** Redis answered: an outage, if any, is over. */
  answered(): void {
    if (this.since !== undefined) this.log(`Redis at ${redactUrl(this.url)} is back`);
    this.since = undefined;
  }

  /** A command has not come back in time. Throws once the outage reaches the limit. */
  waiting(): void {
    const now = Date.now();
    if (this.since === undefined) {
      this.since = now;
      this.log(
        `Redis at ${redactUrl(this.url)} does not answer; waiting up to ${Math.round(this.limitMs / 1000)} s for it to return`,
      );
    } else if (now - this.since >= this.limitMs) {
      throw new Error(
        `Redis at ${redactUrl(this.url)} did not answer for ${Math.round((now - this.since) / 1000)} s; giving up (the combinations keep their checkpoints: run the sweep again to resume them)`,
      );
    }
  }
}

/** Resolves with `promise`'s value, or `undefined` if it has not settled after `ms` (it keeps running). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
