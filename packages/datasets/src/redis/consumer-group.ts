import type { Redis } from 'ioredis';
import { isReplyError } from './redis-connection.js';

/** Ids per `XACK` / `XCLAIM` command (a reply lists one entry per id: bounded commands and replies). */
const IDS_PER_COMMAND = 1000;

/** A stream's consumer group, addressed on one connection: the group commands a consumer needs. */
export interface GroupAddress {
  readonly redis: Redis;
  readonly stream: string;
  readonly group: string;
}

/**
 * Creates the group at `start` (`$` new entries only, `0` the whole stream), and the stream with it
 * when missing (`MKSTREAM`). A group that exists already is kept as it is, with its position.
 */
export async function ensureGroup(g: GroupAddress, start: string): Promise<void> {
  try {
    await g.redis.call('XGROUP', 'CREATE', g.stream, g.group, start, 'MKSTREAM');
  } catch (e) {
    if (!(isReplyError(e) && /BUSYGROUP/.test((e as Error).message))) throw e;
  }
}

/** `XACK`s `ids` in commands of 1,000, sent as one pipeline (one round trip); throws the first error. */
export async function acknowledgeAll(g: GroupAddress, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const pipeline = g.redis.pipeline();
  for (let i = 0; i < ids.length; i += IDS_PER_COMMAND)
    pipeline.xack(g.stream, g.group, ...ids.slice(i, i + IDS_PER_COMMAND));
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/**
 * Resets the idle time of `consumer`'s pending entries `ids` (`XCLAIM … 0 … JUSTID` to itself), so
 * other consumers' `XAUTOCLAIM` does not take entries this consumer still holds.
 */
export async function touchPending(g: GroupAddress, consumer: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += IDS_PER_COMMAND)
    await g.redis.call('XCLAIM', g.stream, g.group, consumer, 0, ...ids.slice(i, i + IDS_PER_COMMAND), 'JUSTID');
}
