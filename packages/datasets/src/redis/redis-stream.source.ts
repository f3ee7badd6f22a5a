import type { ComponentDescriptor, ComponentServices, StreamInfo } from '@engram/core';
import { LiveBatchSource } from '../live/live-batch-source.js';
import { LiveDataSource } from '../live/live-data-source.js';
import { liveRecordSpec } from '../live/live-options.js';
import { expandEnv } from './redis-connection.js';
import { RedisStreamFeed } from './redis-stream.feed.js';
import { redisTarget } from './redis-target.js';
import { defaultConsumerName, RedisStreamOptions } from './redis-stream.options.js';

/**
 * The `redis-stream` live source: a {@link LiveDataSource} fed by a {@link RedisStreamFeed}, which
 * also acknowledges upstream. `state()` is `{ delivered, feed: { consumer, lastId, unacked,
 * deadLettered } }`; `checkpointed(state)` — called by the engine once the checkpoint holding that
 * state is durable — `XACK`s the `unacked` ids it lists, so an entry is acknowledged only when a
 * crash can no longer lose its training.
 */
export class RedisStreamSource extends LiveDataSource {
  constructor(
    info: Omit<StreamInfo, 'experiences'>,
    train: LiveBatchSource,
    readonly redis: RedisStreamFeed,
  ) {
    super(info, train, redis);
  }

  /** Acknowledges the entries the durable checkpoint holding `state` covers. */
  async checkpointed(state: unknown): Promise<void> {
    const feed = (state as { feed?: unknown } | null)?.feed;
    if (feed !== undefined && feed !== null) await this.redis.acknowledge(feed);
  }
}

/** Builds the `redis-stream` source; nothing connects until the experience is subscribed. */
export function createRedisStream(o: RedisStreamOptions, services: ComponentServices): RedisStreamSource {
  const r = liveRecordSpec(o, 'redis-stream');
  const url = expandEnv(o.url, process.env, `${services.path}/url`);
  const target = redisTarget(url, o.ca, services.baseDir, `${services.path}/ca`);
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: 'block',
    sampleShape: o.inputShape,
    name: 'redis-stream',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  const feed = new RedisStreamFeed(
    { ...o, consumer: o.consumer ?? defaultConsumerName() },
    url,
    train,
    r,
    services.events,
    o.consumer !== undefined,
    target,
  );
  return new RedisStreamSource(
    {
      inputShape: o.inputShape,
      ...r.info,
      scenario: 'stream',
    },
    train,
    feed,
  );
}

/** The `redis-stream` dataset component. */
export const redisStreamDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'redis-stream',
  description:
    'A live stream read from a Redis stream through a consumer group (XREADGROUP); entries are XACKed only once a ' +
    'checkpoint covering them is durable, so a resumed run trains on each exactly once; bad records go to a ' +
    'dead-letter stream. Stream mode.',
  options: RedisStreamOptions,
  create: (options, services) => createRedisStream(options as RedisStreamOptions, services),
};
