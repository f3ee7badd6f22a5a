import { hostname } from 'node:os';
import { StringEnum, Type, type Static } from '@engram/core';
import { liveOptions } from '../live/live-options.js';
import { redisUrlOption } from './redis-connection.js';
import { redisCaOption } from './redis-target.js';

/** Options of the `redis-stream` source. */
export const RedisStreamOptions = Type.Object(
  {
    ...liveOptions,
    url: redisUrlOption,
    ca: redisCaOption,
    stream: Type.String({ minLength: 1, description: 'Key of the Redis stream to consume.' }),
    group: Type.String({
      minLength: 1,
      default: 'engram',
      description:
        'Consumer group (created with MKSTREAM if missing). Pipelines with different groups each read the whole ' +
        'stream; consumers of one group split it.',
    }),
    consumer: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Consumer name in the group (default: hostname-pid; a resumed run keeps the name its checkpoint recorded).',
      }),
    ),
    field: Type.String({
      minLength: 1,
      default: 'data',
      description: 'Entry field holding the JSON record, e.g. {"x": [...], "y": 3}.',
    }),
    start: StringEnum(['$', '0'] as const, {
      default: '$',
      description: 'Where a newly created group starts: "$" only entries added from now on, "0" the whole stream.',
    }),
    count: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'Entries asked for per XREADGROUP.' }),
    readAhead: Type.Integer({
      minimum: 0,
      maximum: 16,
      default: 1,
      description:
        'XREADGROUP replies asked for ahead while a backlog is read, so the next entries are already here when ' +
        'training wants them; the consumer holds at most buffer + (1 + readAhead) × count entries. 0 asks only ' +
        'once the previous entries are queued.',
    }),
    blockMs: Type.Integer({
      minimum: 1,
      maximum: 60000,
      default: 1000,
      description: 'How long one XREADGROUP waits for new entries.',
    }),
    claimIdleMs: Type.Integer({
      minimum: 0,
      default: 60000,
      description:
        'Entries pending this long with another consumer of the group (a dead one) are claimed (XAUTOCLAIM); 0 never ' +
        'claims. Keep it longer than a crashed run takes to be resumed.',
    }),
    deadLetter: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Stream receiving bad records with the reason and original id (default: "<stream>:dead-letter").',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RedisStreamOptions = Static<typeof RedisStreamOptions>;

/** The consumer name used when none is configured: hostname and process id. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * What a `redis-stream` checkpoint records (the feed part of the source state): the consumer whose
 * pending entries a resumed run re-reads, the ids trained on and not yet acknowledged (acknowledged by
 * the resumed run before it reads anything), the last id trained on, and the dead-letter count.
 */
export interface RedisStreamPosition {
  readonly consumer: string;
  readonly lastId: string | null;
  readonly unacked: readonly string[];
  readonly deadLettered: number;
  /**
   * Id of the last entry this consumer added to the dead-letter stream when the checkpoint was
   * written (`'0-0'`: none yet; absent in checkpoints written before it existed). A resume counts the
   * consumer's dead letters after it: those a killed process wrote after its last checkpoint.
   */
  readonly deadLetterId?: string;
}

/** Checks a position read back from a checkpoint; throws a one-line error on a malformed one. */
export function parsePosition(s: unknown, where: string): RedisStreamPosition {
  const p = s as Partial<RedisStreamPosition> | null;
  const isId = (v: unknown): v is string => typeof v === 'string' && /^\d+-\d+$/.test(v);
  if (
    !p ||
    typeof p !== 'object' ||
    typeof p.consumer !== 'string' ||
    !Array.isArray(p.unacked) ||
    !p.unacked.every(isId) ||
    !(p.lastId === null || isId(p.lastId)) ||
    typeof p.deadLettered !== 'number'
  ) {
    throw new Error(
      `${where}: a checkpoint position must be { consumer, lastId, unacked: [ids], deadLettered }, got ${JSON.stringify(s)?.slice(0, 200)}`,
    );
  }
  if (p.deadLetterId !== undefined && !isId(p.deadLetterId))
    throw new Error(
      `${where}: a checkpoint position's deadLetterId must be a stream id, got ${JSON.stringify(p.deadLetterId)?.slice(0, 60)}`,
    );
  return {
    consumer: p.consumer,
    lastId: p.lastId,
    unacked: [...p.unacked],
    deadLettered: p.deadLettered,
    ...(p.deadLetterId !== undefined ? { deadLetterId: p.deadLetterId } : {}),
  };
}
