import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { EventBus } from '@engram/core/internal';
import { freePort, startRedis, type TestRedis } from '../testing/redis-server.js';
import { testServices } from '../testing/support.js';
import { RedisEventsLogger, type ModelAnnouncement } from './redis-events.logger.js';

const options = (url: string, stream: string, extra: Record<string, unknown> = {}) => ({
  url,
  stream,
  maxLen: 100000,
  queue: 10000,
  ...extra,
});

describe('redis-stream events logger (against a real redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.dispose();
  });

  it('appends every event to the stream in order and announces each checkpoint on <stream>:models', async () => {
    const listener = new Redis(server.url);
    const heard: string[] = [];
    await listener.subscribe('run1:models');
    listener.on('message', (_channel: string, message: string) => heard.push(message));
    const bus = new EventBus();
    const logger = new RedisEventsLogger(options(server.url, 'run1'), testServices());
    logger.attach(bus.events$, '/tmp/out-run1');
    bus.emit({
      type: 'run-start',
      name: 'demo',
      seed: 1,
      backend: 'cpu',
      mode: 'stream',
      experiences: 'endless',
      scenario: 'stream',
      strategies: ['naive'],
      inputShape: [4],
      numClasses: 3,
      parameters: 10,
    });
    for (let step = 1; step <= 500; step++) {
      bus.emit({
        type: 'batch-end',
        experience: 0,
        epoch: 0,
        batch: step - 1,
        step,
        size: 8,
        loss: 1 / step,
        penalty: 0,
        accuracy: 0.5,
        epochLoss: 1,
        epochAccuracy: 0.5,
        samplesPerSecond: 100,
      });
      if (step % 10 === 0)
        bus.emit({
          type: 'prequential',
          step,
          samples: step * 8,
          accuracy: 0.6,
          windowAccuracy: 0.7,
          fadingAccuracy: 0.65,
          loss: 0.9,
        });
      if (step % 250 === 0)
        bus.emit({
          type: 'checkpoint',
          path: `/tmp/out-run1/checkpoints/step-${step}`,
          step,
          bytes: 100,
          seconds: 0.01,
        });
    }
    bus.emit({ type: 'run-end', wallSeconds: 1, samplesPerSecond: 100, steps: 500 });
    bus.complete();
    await logger.close();
    const entries = await redis.xrange('run1', '-', '+');
    assert.equal(entries.length, 1 + 500 + 50 + 2 + 1);
    const events = entries.map(([, f]) => JSON.parse(f[1] as string) as { seq: number; type: string });
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
      'every event, in order',
    );
    assert.equal(events[events.length - 1]?.type, 'run-end');
    const models = (await redis.xrange('run1:models', '-', '+')).map(
      ([, f]) => JSON.parse(f[1] as string) as ModelAnnouncement,
    );
    assert.deepEqual(
      models.map((m) => [m.run, m.step, m.checkpoint]),
      [
        ['demo', 250, '/tmp/out-run1/checkpoints/step-250'],
        ['demo', 500, '/tmp/out-run1/checkpoints/step-500'],
      ],
    );
    assert.deepEqual(models[1]?.metrics, {
      step: 500,
      loss: 1 / 500,
      accuracy: 0.5,
      prequential: { samples: 4000, accuracy: 0.6, windowAccuracy: 0.7, fadingAccuracy: 0.65, loss: 0.9 },
    });
    for (let t = 0; t < 40 && heard.length < 2; t++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(heard.length, 2, 'both checkpoints published on the channel');
    listener.disconnect();
  });

  it('caps the stream approximately at maxLen', async () => {
    const bus = new EventBus();
    const logger = new RedisEventsLogger(options(server.url, 'capped', { maxLen: 100 }), testServices());
    logger.attach(bus.events$, '/tmp');
    for (let i = 0; i < 3000; i++) bus.emit({ type: 'warning', message: `m${i}` });
    bus.complete();
    await logger.close();
    const len = await redis.xlen('capped');
    assert.ok(len >= 100 && len < 1000, `stream length ${len}`);
  });

  it(
    'never stops the run when Redis is unreachable: one warning while running, bounded queue, a count of lost ' +
      'events at the end',
    async () => {
      const services = testServices();
      const bus = new EventBus();
      const logger = new RedisEventsLogger(
        options(`redis://127.0.0.1:${await freePort()}`, 'nowhere', { queue: 1000 }),
        services,
      );
      logger.attach(bus.events$, '/tmp');
      for (let i = 0; i < 20_000; i++) bus.emit({ type: 'warning', message: `event ${i}` });
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 100; i++) bus.emit({ type: 'warning', message: `later ${i}` });
      await logger.close();
      const warnings = services.emitted.map((e) => (e as { message: string }).message);
      assert.equal(warnings.filter((m) => m.includes('cannot write events')).length, 1, warnings.join('\n'));
      assert.ok(
        warnings.some((m) => /20100 event\(s\) could not be sent/.test(m)),
        warnings.join('\n'),
      );
    },
  );
});
