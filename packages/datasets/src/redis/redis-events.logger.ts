import { resolve } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { Redis } from 'ioredis';
import {
  Type,
  type ComponentDescriptor,
  type ComponentServices,
  type EngramEvent,
  type RunLogger,
  type Static,
} from '@engram/core';
import { closeRedis, connectRedis, expandEnv, openRedis, redactUrl, redisUrlOption } from './redis-connection.js';
import { redisCaOption, redisTarget } from './redis-target.js';

/** Options of the `redis-stream` logger. */
export const RedisEventsOptions = Type.Object(
  {
    url: redisUrlOption,
    ca: redisCaOption,
    stream: Type.String({
      minLength: 1,
      description:
        'Stream key every event is appended to (field "event", the event as JSON); checkpoints are also announced on "<stream>:models".',
    }),
    maxLen: Type.Integer({
      minimum: 1,
      default: 100000,
      description: 'Approximate cap of the stream (XADD MAXLEN ~).',
    }),
    queue: Type.Integer({
      minimum: 1,
      default: 10000,
      description:
        'Events held while Redis is slow or unreachable; beyond it the oldest are dropped (training never waits).',
    }),
  },
  { additionalProperties: false },
);
export type RedisEventsOptions = Static<typeof RedisEventsOptions>;

/** What `<stream>:models` receives after each checkpoint. */
export interface ModelAnnouncement {
  readonly run: string;
  readonly outDir: string;
  readonly step: number;
  readonly checkpoint: string;
  readonly metrics: Record<string, unknown>;
}

const BATCH = 200;

/**
 * Streams a run's events to Redis (role `logger`): every event is appended as JSON to a capped stream
 * (`XADD <stream> MAXLEN ~ maxLen * event <json>`) so dashboards can follow the run (`XREAD BLOCK 0
 * STREAMS <stream> $`), and after each `checkpoint` event `{ run, outDir, step, checkpoint, metrics }`
 * (metrics: the latest batch, prequential and evaluation figures) is appended to the stream
 * `<stream>:models` (capped at 1,000) and published on the channel of the same name, so model servers
 * can load new versions.
 *
 * It never slows or stops training: the event handler only queues a string (bounded: the oldest are
 * dropped beyond `queue`); a background pump sends up to 200 events per round trip. Redis being
 * unreachable or failing is reported once as a `warning` event; events dropped meanwhile are counted in
 * a second warning when the run ends.
 */
export class RedisEventsLogger implements RunLogger {
  private readonly redis: Redis;
  private readonly url: string;
  private readonly pending: string[] = [];
  private readonly models: ModelAnnouncement[] = [];
  private readonly metrics: Record<string, unknown> = {};
  private subscription: Subscription | undefined;
  private pumping: Promise<void> | undefined;
  private run = '';
  private outDir = '';
  private dropped = 0;
  private warned = false;
  private closed = false;

  constructor(
    private readonly o: RedisEventsOptions,
    private readonly services: ComponentServices,
  ) {
    this.url = expandEnv(o.url, process.env, `${services.path}/url`);
    this.redis = openRedis(redisTarget(this.url, o.ca, services.baseDir, `${services.path}/ca`), {
      onLost: (why) => this.fail(why),
      name: 'engram-events',
    });
  }

  attach(events$: Observable<EngramEvent>, outputDir: string): void {
    this.outDir = resolve(outputDir);
    connectRedis(this.redis).catch(() => undefined);
    this.subscription = events$.subscribe((e) => this.onEvent(e));
  }

  /** Sends what is queued (waiting at most 3 s for an unreachable server), then disconnects. */
  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.closed = true;
    const deadline = new Promise<void>((r) => setTimeout(r, 3000).unref());
    await Promise.race([this.drain(), deadline]);
    const lost = this.dropped + this.pending.length;
    if (lost > 0)
      this.services.events.emit({
        type: 'warning',
        message: `redis-stream logger: ${lost} event(s) could not be sent to ${this.o.stream}`,
      });
    closeRedis(this.redis);
  }

  private onEvent(e: EngramEvent): void {
    if (e.type === 'run-start') this.run = e.name;
    if (e.type === 'batch-end') Object.assign(this.metrics, { step: e.step, loss: e.loss, accuracy: e.accuracy });
    if (e.type === 'prequential')
      this.metrics['prequential'] = {
        samples: e.samples,
        accuracy: e.accuracy,
        windowAccuracy: e.windowAccuracy,
        fadingAccuracy: e.fadingAccuracy,
        loss: e.loss,
        // a regression stream's prequential errors (target units)
        ...(e.mae !== undefined ? { mae: e.mae, windowMae: e.windowMae ?? e.mae, rmse: e.rmse ?? 0 } : {}),
      };
    if (e.type === 'evaluation')
      this.metrics['evaluation'] = { afterExperience: e.afterExperience, accuracy: e.results.map((r) => r.accuracy) };
    this.pending.push(JSON.stringify(e));
    if (this.pending.length > this.o.queue) {
      this.pending.shift();
      this.dropped++;
    }
    if (e.type === 'checkpoint') {
      this.models.push({
        run: this.run,
        outDir: this.outDir,
        step: e.step,
        checkpoint: resolve(e.path),
        metrics: structuredClone(this.metrics),
      });
      if (this.models.length > 100) this.models.shift();
    }
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.models.length > 0 || this.pumping) {
      await (this.pumping ?? this.pump());
      if (this.redis.status !== 'ready') return;
    }
  }

  /** Sends queued events and announcements while the connection is ready. */
  private async pump(): Promise<void> {
    while ((this.pending.length > 0 || this.models.length > 0) && this.redis.status === 'ready') {
      const events = this.pending.splice(0, BATCH);
      const models = this.models.splice(0);
      const p = this.redis.pipeline();
      for (const json of events) p.xadd(this.o.stream, 'MAXLEN', '~', this.o.maxLen, '*', 'event', json);
      for (const m of models) {
        const json = JSON.stringify(m);
        p.xadd(`${this.o.stream}:models`, 'MAXLEN', '~', 1000, '*', 'model', json);
        p.publish(`${this.o.stream}:models`, json);
      }
      try {
        const results = (await p.exec()) ?? [];
        const error = results.find(([err]) => err !== null)?.[0];
        if (error) throw error;
      } catch (e) {
        this.dropped += events.length;
        this.fail((e as Error).message);
        return;
      }
    }
    if (!this.closed && this.redis.status !== 'ready' && this.pending.length > 0) {
      // Wait for the connection (the queue stays bounded meanwhile), then carry on.
      await new Promise<void>((r) => this.redis.once('ready', () => r()));
      if (!this.closed) await this.pump();
    }
  }

  private fail(why: string): void {
    if (this.warned || this.closed) return;
    this.warned = true;
    this.services.events.emit({
      type: 'warning',
      message:
        `redis-stream logger: cannot write events to ${this.o.stream} at ${redactUrl(this.url)} (${why}); ` +
        `training goes on, events are queued (at most ${this.o.queue}) or dropped`,
    });
  }
}

/** The `redis-stream` logger component. */
export const redisEventsDescriptor: ComponentDescriptor = {
  role: 'logger',
  kind: 'redis-stream',
  description:
    'Appends every run event as JSON to a capped Redis stream and announces each checkpoint on "<stream>:models"; never slows training.',
  options: RedisEventsOptions,
  create: (options, services: ComponentServices) => new RedisEventsLogger(options as RedisEventsOptions, services),
};
