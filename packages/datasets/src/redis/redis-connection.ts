import { Redis } from 'ioredis';
import { Type } from '@engram/core';
import { fatalRedisError, redisTlsOptions, type RedisTarget } from './redis-target.js';

/** The `url` option every Redis component shares. */
export const redisUrlOption = Type.String({
  minLength: 1,
  default: 'redis://127.0.0.1:6379',
  description:
    'Redis server URL (redis://[user:password@]host:port[/db]); ${NAME} is replaced by the environment variable NAME.',
});

/**
 * Replaces every `${NAME}` in `text` by the environment variable NAME (`${NAME:-fallback}` when it is
 * unset or empty). An unset variable without a fallback is an error naming it, so a typo never turns
 * into a connection to the wrong server.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env, what = 'url'): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      throw new Error(`${what}: environment variable ${name} is not set`);
    },
  );
}

/** `url` without its password, for messages (also every URL with a password inside a longer text). */
export function redactUrl(url: string): string {
  return url.replace(/(rediss?:)?\/\/([^:@/\s]*):[^@/\s]*@/g, '$1//$2:***@');
}

/** Options of {@link openRedis}. */
export interface RedisConnectionOptions {
  /** Called once per outage, when a working connection is lost or the first connection fails. */
  readonly onLost?: (message: string) => void;
  /** Called when the connection is ready again after an outage. */
  readonly onBack?: () => void;
  /**
   * Called once when the connection is given up for good: the server refuses the credentials (or its
   * certificate is not trusted) on a reconnection — a password changed while connected. One line
   * without secrets; the connection is closed. Without it such a refusal is an outage like any other
   * (`onLost`, reconnection with backoff: the password may be set back).
   */
  readonly onFatal?: (message: string) => void;
  /** Longest pause between reconnection attempts (the backoff doubles from 50 ms up to this). */
  readonly maxBackoffMs?: number;
  /** Name shown by `CLIENT LIST`. */
  readonly name?: string;
}

/** ioredis' internal queue of the commands that were in flight when a ready connection closed. */
interface InFlightQueue {
  shift(): { command: { reject(error: Error): void } } | undefined;
}

/**
 * Rejects the commands that were in flight when the connection closed. ioredis 5 keeps them aside
 * (`prevCommandQueue`) and, with `autoResendUnfulfilledCommands: false`, drops them on reconnection
 * without settling their promises — a blocking read or an `XACK` cut by a server restart would never
 * return, and the run would wait forever. Called on `reconnecting`, before the reconnection.
 */
function rejectInFlight(redis: Redis): void {
  const internal = redis as unknown as { prevCommandQueue?: InFlightQueue | null };
  const queue = internal.prevCommandQueue;
  if (queue === null || queue === undefined) return;
  internal.prevCommandQueue = null;
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    item.command.reject(new Error('connection lost while the command was in flight'));
  }
}

/** Why a connection was given up for good (wrong password, untrusted certificate), by connection. */
const fatalErrors = new WeakMap<Redis, Error>();

/**
 * Opens an ioredis connection that never gives up on an outage: reconnects with exponential backoff
 * (50 ms doubling up to `maxBackoffMs`), queues commands while disconnected (`maxRetriesPerRequest:
 * null`), and does not resend a command that was in flight when the connection dropped: its caller gets
 * an error and decides (a blocking read must re-read its pending entries rather than get a second
 * answer). AUTH and TLS come from the target ({@link RedisTarget}); a server that refuses the
 * credentials or whose certificate is not trusted is given up at once — before the first ready connection
 * {@link connectRedis} rejects with one line saying why (the URL's password redacted); on a reconnection
 * `onFatal` gets that line.
 */
export function openRedis(target: RedisTarget | string, options: RedisConnectionOptions = {}): Redis {
  const t = typeof target === 'string' ? { url: target } : target;
  const url = t.url;
  const maxBackoff = options.maxBackoffMs ?? 2000;
  const redis = new Redis(url, {
    ...redisTlsOptions(t),
    lazyConnect: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: true,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(maxBackoff, 50 * 2 ** Math.min(times, 10)),
    ...(options.name ? { connectionName: options.name } : {}),
  });
  let down = false;
  let everReady = false;
  const lost = (why: string): void => {
    if (down) return;
    down = true;
    options.onLost?.(why);
  };
  redis.on('error', (e: Error) => {
    if (fatalErrors.has(redis)) return;
    // After a ready connection, only a caller that handles it (onFatal) has the connection given up.
    const fatal = everReady && !options.onFatal ? undefined : fatalRedisError(e);
    if (fatal !== undefined) {
      // Retrying cannot mend refused credentials: give up, whether before the first ready connection or
      // on a reconnection (the password was changed while this connection was open).
      const error = new Error(
        everReady
          ? `lost the connection to Redis at ${redactUrl(url)} and cannot reconnect: ${fatal}`
          : `cannot connect to Redis at ${redactUrl(url)}: ${fatal}`,
      );
      fatalErrors.set(redis, error);
      if (everReady) options.onFatal?.(error.message);
      else lost(error.message);
      redis.disconnect(false);
      redis.emit('engram:fatal', error);
      return;
    }
    lost(redactUrl(e.message.split('\n')[0] ?? 'error'));
  });
  redis.on('close', () => lost('connection closed'));
  redis.on('reconnecting', () => rejectInFlight(redis));
  redis.on('ready', () => {
    everReady = true;
    if (!down) return;
    down = false;
    options.onBack?.();
  });
  return redis;
}

/**
 * Connects (for a connection opened lazily); resolves when ready, waiting through reconnection attempts.
 * Rejects with one line when the connection was given up (wrong password, untrusted certificate).
 */
export async function connectRedis(redis: Redis): Promise<void> {
  if (redis.status === 'wait') await redis.connect().catch(() => undefined);
  if (redis.status === 'ready') return;
  const given = fatalErrors.get(redis);
  if (given) throw given;
  await new Promise<void>((resolve, reject) => {
    const ready = (): void => {
      redis.off('engram:fatal', fatal);
      resolve();
    };
    const fatal = (e: Error): void => {
      redis.off('ready', ready);
      reject(e);
    };
    redis.once('ready', ready);
    redis.once('engram:fatal', fatal);
  });
}

/** Closes a connection without waiting for pending replies (blocked reads are cut). */
export function closeRedis(redis: Redis): void {
  redis.disconnect(false);
}

/** Whether `e` is an error reply of the server (as opposed to a lost connection). */
export function isReplyError(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError';
}

/**
 * Runs `op` until it succeeds or `stopped()` holds, waiting out connection losses with backoff
 * (50 ms doubling to 2 s). Error replies of the server are rethrown: retrying cannot mend them.
 */
export async function retryWhileDisconnected(op: () => Promise<unknown>, stopped: () => boolean): Promise<void> {
  for (let wait = 50; !stopped(); wait = Math.min(2000, wait * 2)) {
    try {
      await op();
      return;
    } catch (e) {
      if (stopped()) return;
      if (isReplyError(e)) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
