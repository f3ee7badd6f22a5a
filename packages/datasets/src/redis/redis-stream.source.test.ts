import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Batch } from '@engram/core';
import { startRedis, type TestRedis } from '../testing/redis-server.js';
import { testServices } from '../testing/support.js';
import { expandEnv } from './redis-connection.js';
import { createRedisStream, type RedisStreamSource } from './redis-stream.source.js';
import type { RedisStreamPosition } from './redis-stream.options.js';

const FEATURES = 4;

/** Record `i`: x[0] = i (so a trained sample names its record), label i mod 3. */
const record = (i: number): string => JSON.stringify({ x: [i, (i % 7) / 7, 0.5, -1], y: i % 3 });

async function produce(redis: Redis, stream: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    const p = redis.pipeline();
    for (let k = i; k < Math.min(to, i + 500); k++) p.xadd(stream, '*', 'data', record(k));
    await p.exec();
  }
}

function source(
  url: string,
  stream: string,
  extra: Record<string, unknown> = {},
  services = testServices(),
): RedisStreamSource {
  const options = {
    url,
    stream,
    group: 'g',
    field: 'data',
    start: '0',
    count: 50,
    blockMs: 100,
    claimIdleMs: 0,
    inputShape: [FEATURES],
    numClasses: 3,
    featuresField: 'x',
    labelField: 'y',
    buffer: 64,
    ...extra,
  };
  const s = createRedisStream(options as Parameters<typeof createRedisStream>[0], services);
  s.experiences().subscribe();
  return s;
}

/** Pulls batches until `n` samples were trained on; returns the record indices in order. */
async function pull(it: AsyncIterator<Batch>, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    for (let i = 0; i < r.value.y.length; i++) out.push(r.value.x[i * FEATURES] as number);
  }
  return out;
}

const batches = (s: RedisStreamSource, batchSize = 10): AsyncIterator<Batch> =>
  s.train.batches({ batchSize, shuffle: false, epoch: 0, seed: 0 })[Symbol.asyncIterator]();
const pendingCount = async (redis: Redis, stream: string, group = 'g'): Promise<number> =>
  ((await redis.xpending(stream, group)) as [number])[0];
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe('redis-stream source (against a real redis-server)', () => {
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

  it(
    'acknowledges entries only when a checkpoint covering them is durable, and a resumed consumer trains on each ' +
      'exactly once',
    async () => {
      await produce(redis, 's1', 0, 1000);
      const a = source(server.url, 's1', { consumer: 'c1' });
      const ia = batches(a);
      const first = await pull(ia, 300);
      assert.deepEqual(first, range(0, 300));
      // delivered (trained + buffered), none acknowledged yet
      assert.ok((await pendingCount(redis, 's1')) >= 300);
      const checkpoint = a.state() as { delivered: number; feed: RedisStreamPosition };
      assert.equal(checkpoint.delivered, 300);
      assert.equal(checkpoint.feed.unacked.length, 300);
      assert.equal(checkpoint.feed.lastId, checkpoint.feed.unacked[299]);
      // trained past the checkpoint, then "crashed": neither the checkpoint's ack nor anything later happened
      assert.deepEqual(await pull(ia, 120), range(300, 420));
      await a.close();

      const b = source(server.url, 's1');
      b.restore(checkpoint);
      assert.equal(b.redis.consumerName, 'c1', "the resumed consumer keeps the checkpoint's name");
      const ib = batches(b);
      const rest = await pull(ib, 700);
      assert.deepEqual(
        rest,
        range(300, 1000),
        'the trained-but-unacknowledged 300 are skipped, the rest replayed in order',
      );
      const s = b.state() as { feed: RedisStreamPosition };
      await b.checkpointed(b.state());
      assert.equal(s.feed.unacked.length, 700);
      assert.equal(await pendingCount(redis, 's1'), 0, 'everything trained is acknowledged');
      await b.close();
    },
  );

  it('acknowledges checkpoint after checkpoint over more entries than the ledger keeps before cutting its front', async () => {
    await produce(redis, 's7', 0, 12_000);
    const s = source(server.url, 's7', { consumer: 'long', count: 500, buffer: 1000 });
    const it = batches(s, 100);
    try {
      let trained = 0;
      for (const upTo of [3000, 6000, 9000, 12_000]) {
        assert.deepEqual(await pull(it, upTo - trained), range(trained, upTo));
        trained = upTo;
        const state = s.state() as { feed: RedisStreamPosition };
        assert.equal(
          state.feed.unacked.length,
          3000,
          'each checkpoint lists exactly what was trained since the last acknowledgement',
        );
        await s.checkpointed(state);
        const pending = await pendingCount(redis, 's7');
        assert.ok(pending <= 1000 + 2 * 500, `${pending} pending after acknowledging everything trained`);
        assert.equal((s.state() as { feed: RedisStreamPosition }).feed.unacked.length, 0);
      }
    } finally {
      await s.close();
    }
  });

  it('sends bad records to the dead-letter stream with reason and id, warns a bounded number of times and keeps training', async () => {
    const bad = [
      'not json',
      JSON.stringify({ x: [1, 2, 3], y: 0 }),
      JSON.stringify({ x: [1, 2, 3, 1e39], y: 0 }),
      JSON.stringify({ x: [1, 2, 3, 4], y: '1' }),
      JSON.stringify({ x: [1, 2, 3, 4], y: 7 }),
      JSON.stringify({ x: [1, 'a', 3, 4], y: 1 }),
    ];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push((await redis.xadd('s2', '*', 'data', record(i))) as string);
      ids.push((await redis.xadd('s2', '*', 'data', bad[i % bad.length] as string)) as string);
    }
    await redis.xadd('s2', '*', 'other', 'no data field');
    const services = testServices();
    const s = source(server.url, 's2', { consumer: 'c' }, services);
    try {
      assert.deepEqual(await pull(batches(s), 30), range(0, 30));
      for (let t = 0; t < 100 && (await redis.xlen('s2:dead-letter')) < 31; t++)
        await new Promise((r) => setTimeout(r, 50));
      await s.checkpointed(s.state());
      const dead = (await redis.xrange('s2:dead-letter', '-', '+')).map(
        ([, f]) =>
          Object.fromEntries(
            f.map((v, i, a) => (i % 2 === 0 ? [v, a[i + 1]] : [])).filter((p) => p.length === 2),
          ) as Record<string, string>,
      );
      assert.equal(dead.length, 31);
      assert.deepEqual(
        dead.slice(0, 6).map((d) => d['id']),
        ids.filter((_, i) => i % 2 === 1).slice(0, 6),
      );
      const reasons = dead.slice(0, 6).map((d) => d['reason'] ?? '');
      assert.match(reasons[0] ?? '', /bad JSON/);
      assert.match(reasons[1] ?? '', /has 3 values, expected 4/);
      assert.match(reasons[2] ?? '', /overflows float32/);
      assert.match(reasons[3] ?? '', /is a string/);
      assert.match(reasons[4] ?? '', /unknown label 7/);
      assert.match(reasons[5] ?? '', /not a (finite )?number/);
      assert.match(dead[30]?.['reason'] ?? '', /field "data" is missing/);
      const warnings = services.emitted
        .filter((e) => e.type === 'warning')
        .map((e) => (e as { message: string }).message);
      assert.equal(
        warnings.filter((m) => /bad record \d+-\d+ sent/.test(m)).length,
        10,
        'one warning for each of the first 10, then only totals',
      );
      assert.ok(
        warnings.some((m) => m.includes('31 bad record(s) sent to dead-letter stream s2:dead-letter in total')),
        warnings.join('\n'),
      );
      // Like every live source, the warnings carry the running total that summary.json's badRecords keeps.
      const totals = services.emitted.flatMap((e) => (e.type === 'warning' && e.badRecords ? [e.badRecords] : []));
      assert.deepEqual(
        totals.map((b) => b.total),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31],
      );
      assert.ok(totals.every((b) => b.source === 'redis-stream s2'));
      assert.equal(await pendingCount(redis, 's2'), 0);
    } finally {
      await s.close(); // a failed assertion must not leave the consumer (and the test process) running
    }
  });

  it('holds at most buffer + (1 + readAhead) × count entries when producers are far ahead of training (bounded memory)', async () => {
    await produce(redis, 's3', 0, 30_000);
    const rss0 = process.memoryUsage().rss;
    const s = source(server.url, 's3', { consumer: 'slow', buffer: 64, count: 50 });
    const it = batches(s);
    await pull(it, 100);
    await new Promise((r) => setTimeout(r, 300));
    const pending = await pendingCount(redis, 's3');
    assert.ok(pending <= 100 + 64 + (1 + 1) * 50, `${pending} entries delivered to a consumer that trained on 100`);
    assert.ok(s.train.queue.length <= 64);
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < 64 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
    console.log(
      `# 30,000 entries waiting, ${pending} delivered to the consumer, RSS +${(grown / 2 ** 20).toFixed(1)} MiB`,
    );
    await s.close();
  });

  it(
    'reads ahead while training, never holding more than buffer + (1 + readAhead) × count entries however fast ' +
      'producers are',
    async () => {
      await produce(redis, 's6', 0, 2000);
      const readAhead = 2;
      const s = source(server.url, 's6', { consumer: 'ahead', buffer: 40, count: 30, readAhead });
      const bound = 40 + (1 + readAhead) * 30;
      const it = batches(s, 10);
      const trained: number[] = [];
      let producing = true;
      // A producer far faster than training keeps adding entries meanwhile.
      const producer = (async () => {
        for (let i = 2000; producing && i < 20_000; i += 500) await produce(redis, 's6', i, i + 500);
      })();
      let most = 0;
      try {
        for (let step = 0; step < 40; step++) {
          trained.push(...(await pull(it, 10)));
          await new Promise((r) => setTimeout(r, 15)); // training is slow: the feed has time to run ahead
          const held = (await pendingCount(redis, 's6')) - trained.length;
          most = Math.max(most, held);
          assert.ok(held <= bound, `step ${step}: ${held} entries held by a consumer bounded at ${bound}`);
          assert.ok(s.train.queue.length <= 40);
        }
      } finally {
        producing = false;
        await producer;
        await s.close();
      }
      assert.deepEqual(trained, range(0, 400), 'read ahead, still in stream order, each once');
      assert.ok(most > 40 + 30, `the feed read ahead beyond the buffer and the reply in hand (held at most ${most})`);
    },
  );

  it('two groups each read the whole stream; two consumers of one group split it', async () => {
    await produce(redis, 's4', 0, 400);
    const g1 = source(server.url, 's4', { group: 'ewc', consumer: 'a' });
    const g2 = source(server.url, 's4', { group: 'replay', consumer: 'a' });
    assert.deepEqual(await pull(batches(g1), 400), range(0, 400));
    assert.deepEqual(await pull(batches(g2), 400), range(0, 400));
    await Promise.all([g1.close(), g2.close()]);
    const c1 = source(server.url, 's4', { group: 'shared', consumer: 'c1', count: 20, buffer: 20 });
    const c2 = source(server.url, 's4', { group: 'shared', consumer: 'c2', count: 20, buffer: 20 });
    const [i1, i2] = [batches(c1), batches(c2)];
    const got: number[][] = [[], []];
    while (got[0]!.length + got[1]!.length < 400) {
      const [r1, r2] = await Promise.all([pull(i1, 10), pull(i2, 10)]);
      got[0]!.push(...r1);
      got[1]!.push(...r2);
    }
    assert.ok(got[0]!.length > 0 && got[1]!.length > 0);
    assert.deepEqual(
      [...got[0]!, ...got[1]!].sort((a, b) => a - b),
      range(0, 400),
      'every entry went to exactly one consumer',
    );
    await Promise.all([c1.close(), c2.close()]);
  });

  it("after a kill, the resumed count of bad records equals the dead-letter stream's length, counting only its own group's", async () => {
    const bad = JSON.stringify({ x: [1, 2, 3], y: 0 });
    for (let i = 0; i < 40; i++) {
      await redis.xadd('s9', '*', 'data', record(i));
      if (i % 2 === 1) await redis.xadd('s9', '*', 'data', bad);
    }
    // another consumer group's dead letter in the same dead-letter stream is not this run's
    await redis.xadd(
      's9:dead-letter',
      '*',
      'reason',
      'x',
      'id',
      '1-1',
      'stream',
      's9',
      'group',
      'other',
      'consumer',
      'c',
    );
    const a = source(server.url, 's9', { consumer: 'c', buffer: 8, count: 4 });
    const ia = batches(a, 4);
    assert.deepEqual(await pull(ia, 12), range(0, 12));
    const checkpoint = a.state() as { delivered: number; feed: RedisStreamPosition };
    const atCheckpoint = checkpoint.feed.deadLettered;
    assert.ok(atCheckpoint >= 5 && atCheckpoint < 20, `${atCheckpoint} dead letters at the checkpoint`);
    // trained on past the checkpoint: more bad records dead-lettered (and acknowledged), then killed
    assert.deepEqual(await pull(ia, 28), range(12, 40));
    for (let t = 0; t < 200 && (await redis.xlen('s9:dead-letter')) < 21; t++)
      await new Promise((r) => setTimeout(r, 20));
    await a.close();
    assert.equal(await redis.xlen('s9:dead-letter'), 21);

    const services = testServices();
    const b = source(server.url, 's9', {}, services);
    b.restore(checkpoint);
    try {
      const ib = batches(b, 4);
      assert.deepEqual(await pull(ib, 28), range(12, 40), 'training stays exactly once');
      const totals = services.emitted.flatMap((e) =>
        e.type === 'warning' && e.badRecords ? [e.badRecords.total] : [],
      );
      assert.equal(totals.at(-1), 20, "badRecords: the 20 of this consumer's group, as the dead-letter stream holds");
      const resumed = b.state() as { feed: RedisStreamPosition };
      assert.equal(resumed.feed.deadLettered, 20);
      const last = (await redis.xrevrange('s9:dead-letter', '+', '-', 'COUNT', 2)).find(([, f]) => f.includes('g'));
      assert.equal(resumed.feed.deadLetterId, last?.[0], 'the next checkpoint marks the last dead letter');
    } finally {
      await b.close();
    }
  });

  it('claims the entries a dead consumer of the group left pending after claimIdleMs', async () => {
    await produce(redis, 's5', 0, 200);
    const dead = source(server.url, 's5', { consumer: 'dead', buffer: 40, count: 40 });
    assert.deepEqual(await pull(batches(dead), 30), range(0, 30));
    const deadState = dead.state() as { feed: RedisStreamPosition };
    await dead.checkpointed(deadState);
    await dead.close(); // 30 trained and acknowledged; up to 50 delivered but never trained
    const services = testServices();
    const heir = source(server.url, 's5', { consumer: 'heir', claimIdleMs: 200, count: 40 }, services);
    const got = await pull(batches(heir), 170);
    assert.deepEqual(
      [...got].sort((a, b) => a - b),
      range(30, 200),
      "the dead consumer's untrained entries are trained once, by the heir",
    );
    assert.ok(
      services.emitted.some((e) => e.type === 'warning' && /claimed \d+ entr/.test((e as { message: string }).message)),
    );
    await heir.checkpointed(heir.state());
    assert.equal(await pendingCount(redis, 's5'), 0);
    await heir.close();
  });

  it('expands ${ENV} in the url and names an unset variable', () => {
    assert.equal(expandEnv('redis://${H}:${P:-6379}/0', { H: 'cache' }), 'redis://cache:6379/0');
    assert.throws(() => expandEnv('redis://${NOPE_X}', {}), /environment variable NOPE_X is not set/);
  });
});

describe('redis-stream source across a server restart', () => {
  it('reconnects with backoff, warns once and loses nothing when redis-server is stopped and restarted', async () => {
    const server = await startRedis({ persistence: true });
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    try {
      await produce(redis, 'r', 0, 300);
      const services = testServices();
      const s = source(server.url, 'r', { consumer: 'c', count: 25, buffer: 30 }, services);
      const it = batches(s);
      const got = await pull(it, 100);
      await s.checkpointed(s.state());
      await server.stop();
      // what was buffered before the stop is still trained on while the server is down
      const during = pull(it, 200);
      await new Promise((r) => setTimeout(r, 500));
      await server.restart();
      await produce(redis, 'r', 300, 400);
      got.push(...(await during), ...(await pull(it, 100)));
      assert.deepEqual(got, range(0, 400));
      await s.checkpointed(s.state());
      assert.equal(await pendingCount(redis, 'r'), 0);
      const lost = services.emitted.filter(
        (e) => e.type === 'warning' && /connection .* lost/.test((e as { message: string }).message),
      );
      assert.equal(lost.length, 1, JSON.stringify(services.emitted));
      await s.close();
    } finally {
      redis.disconnect();
      await server.dispose();
    }
  });
});
