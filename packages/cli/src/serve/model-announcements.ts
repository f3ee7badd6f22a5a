import { closeRedis, connectRedis, openRedis, redactUrl, type RedisTarget } from '@engram/datasets';
import type { Redis } from 'ioredis';

/** A checkpoint announced by the `redis-stream` logger on `<stream>:models`. */
export interface Announcement {
  readonly step: number;
  /** Absolute path of the checkpoint directory. */
  readonly checkpoint: string;
}

/** Reads an announcement message; undefined for anything else (a foreign publisher on the channel). */
export function parseAnnouncement(message: string): Announcement | undefined {
  try {
    const m = JSON.parse(message) as { step?: unknown; checkpoint?: unknown };
    if (
      typeof m.step === 'number' &&
      Number.isInteger(m.step) &&
      typeof m.checkpoint === 'string' &&
      m.checkpoint.length > 0
    )
      return { step: m.step, checkpoint: m.checkpoint };
  } catch {
    // not JSON: ignored
  }
  return undefined;
}

/**
 * Follows the model versions a trainer announces on Redis (the `redis-stream` logger publishes each
 * durable checkpoint on the channel `<stream>:models`), for `engram serve --follow --redis URL
 * --models-channel CHANNEL` (AUTH and TLS from the target): replicas reload as soon as a checkpoint is written, without polling.
 * Reconnects with backoff if Redis goes away (ioredis resubscribes); a malformed message is ignored. If
 * the server refuses the credentials on a reconnection (password changed), one warning says so and
 * announcements stop; serving goes on and the caller's folder polling still finds new checkpoints.
 */
export class ModelAnnouncements {
  private redis: Redis | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly channel: string,
    private readonly onAnnounce: (a: Announcement) => void,
    private readonly warn: (message: string) => void,
  ) {}

  /** Connects and subscribes; resolves once subscribed. */
  async start(): Promise<void> {
    const url = this.target.url;
    const redis = openRedis(this.target, {
      name: 'engram-serve',
      onLost: (why) => this.warn(`redis ${redactUrl(url)}: ${why}; reconnecting`),
      // Credentials refused on a reconnection: serving goes on (the checkpoint folder is still polled).
      onFatal: (why) =>
        this.warn(
          `${why}; announcements are no longer followed (the checkpoint folder is still polled): restart engram serve ` +
            'with the new credentials',
        ),
    });
    this.redis = redis;
    redis.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const a = parseAnnouncement(message);
      if (a) this.onAnnounce(a);
    });
    await connectRedis(redis);
    await redis.subscribe(this.channel);
  }

  stop(): void {
    if (this.redis) closeRedis(this.redis);
    this.redis = undefined;
  }
}
