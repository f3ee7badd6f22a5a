import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { startRedis } from '@engram/datasets/testing';
import { CLI_DIR } from '../sweep/sweep-paths.js';
import { quietnessBetween, readCpuSnapshot, withQuietness } from './quietness.js';
import type { RedisBenchOptions } from './redis-bench-options.js';
import {
  REDIS_CASES,
  roundOrder,
  summariseRedisRounds,
  type RedisCase,
  type RedisRound,
  type RedisRoundRow,
} from './redis-bench-rounds.js';

export type { RedisBenchOptions } from './redis-bench-options.js';

/** What the Redis benchmark measured (records/s are end to end: read, parse, queue, train). */
export interface RedisBenchResult {
  readonly records: number;
  readonly batchSize: number;
  readonly features: number;
  readonly backend: string;
  /** Median records/s of `jsonl-follow`. */
  readonly jsonlRecordsPerSecond: number;
  /** Median records/s of `redis-stream`. */
  readonly redisRecordsPerSecond: number;
  /** Median of the per-round redis / jsonl ratios (goal ≥ 0.9). */
  readonly ratio: number;
  /** Median records/s of `jsonl-follow` with the `redis-stream` events logger. */
  readonly withLoggerRecordsPerSecond: number;
  /** Median of the per-round 1 − with logger / without, in % (goal ≤ 5). */
  readonly loggerOverheadPercent: number;
  /** The discarded warm-up round's records/s (it pays JIT and tfjs warm-up; never in a median). */
  readonly warmup: Readonly<Record<RedisCase, number>>;
  /** Every measured round, with its order, ratios and quietness. */
  readonly rounds: RedisRoundRow[];
  /** Rounds the medians are over, and whether only quiet ones were used. */
  readonly roundsUsed: number;
  readonly quietOnly: boolean;
  readonly quietRounds: number;
  /** Over the whole bench: whether others used at most 0.1 core, how much they used, the load average. */
  readonly quiet: boolean;
  readonly othersCores: number | null;
  readonly load1Start: number | null;
  readonly load1End: number | null;
  /** True when the server's own CPU counted as the bench's (a loopback server whose pid `INFO` gave). */
  readonly serverCpuCounted: boolean;
}

const CLASSES = 4;

function record(i: number, features: number): string {
  const y = i % CLASSES;
  return JSON.stringify({
    x: Array.from({ length: features }, (_, f) =>
      Number(((f % CLASSES === y ? 2 : 0) + ((i * 7 + f * 3) % 11) / 11).toFixed(4)),
    ),
    y,
  });
}

/** One stream-mode run of `data` on the shared model; records/s from the run's own wall time. */
async function trainedPerSecond(
  data: unknown,
  o: RedisBenchOptions,
  dir: string,
  loggers: unknown[] = [],
): Promise<{ rate: number; backend: string }> {
  const doc = {
    name: 'bench-redis',
    seed: 0,
    backend: o.backend,
    plugins: ['@engram/datasets', '@engram/strategies'],
    data,
    model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.001 },
    strategy: { kind: 'naive' },
    training: { batchSize: o.batchSize, maxSamples: o.records, logEvery: 50 },
    checkpoint: { enabled: true, everyBatches: 200, keep: 1 },
    loggers,
  };
  const out = mkdtempSync(join(dir, 'run-'));
  try {
    const loaded = await preparePipeline(doc, join(dir, 'bench.pipeline.json'), {
      resolveFrom: [CLI_DIR],
      builtins: [corePlugin],
    });
    const { summary, backend } = await runPipeline(loaded, { outDir: out });
    if (summary.trainSamples < o.records) throw new Error(`trained on ${summary.trainSamples} of ${o.records} records`);
    return { rate: summary.trainSamples / summary.wallSeconds, backend: backend.description };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The server's pid when it runs on this machine (loopback URL) and says it in `INFO server`. */
async function localServerPid(client: Redis, url: string): Promise<number | undefined> {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return undefined;
  const pid = /^process_id:(\d+)/m.exec(await client.info('server'))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/**
 * Records/s consumed and trained end to end from a Redis stream (consumer group, acks after each
 * checkpoint) vs from a local JSON-lines file (`jsonl-follow`) holding the same records, on the same
 * model, and the JSONL run with the `redis-stream` events logger, for the logger's overhead. One
 * warm-up round runs every case once and is discarded; then `o.rounds` measured rounds run every case
 * once in the order {@link roundOrder} gives. Each round records how much CPU other processes used
 * (the redis-server's own CPU counts as the bench's when its pid is known); the summaries are medians
 * over the quiet rounds when there are any, and the ratios are medians of per-round ratios.
 */
export async function redisBench(o: RedisBenchOptions): Promise<RedisBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-redis-'));
  const server = o.url === undefined ? await startRedis() : undefined;
  const url = o.url ?? server?.url ?? '';
  const stream = `engram:bench:${Date.now()}`;
  const client = new Redis(url);
  try {
    const lines: string[] = [];
    for (let i = 0; i < o.records; i += 1000) {
      const p = client.pipeline();
      for (let k = i; k < Math.min(o.records, i + 1000); k++) {
        const r = record(k, o.features);
        lines.push(r);
        p.xadd(stream, '*', 'data', r);
      }
      await p.exec();
    }
    writeFileSync(join(dir, 'feed.jsonl'), `${lines.join('\n')}\n`);
    const serverPid = await localServerPid(client, url);
    const helpers = serverPid === undefined ? [] : [serverPid];
    const shape = { inputShape: [o.features], numClasses: CLASSES, buffer: 1024 };
    const jsonlData = { kind: 'jsonl-follow', path: 'feed.jsonl', pollMs: 20, ...shape };
    let backend = '';
    // Every redis run reads the whole stream from its start through a group of its own.
    const runCase = async (c: RedisCase, group: string): Promise<number> => {
      const run =
        c === 'jsonl'
          ? await trainedPerSecond(jsonlData, o, dir)
          : c === 'redis'
            ? await trainedPerSecond(
                { kind: 'redis-stream', url, stream, group, start: '0', count: 500, blockMs: 100, ...shape },
                o,
                dir,
              )
            : await trainedPerSecond(jsonlData, o, dir, [{ kind: 'redis-stream', url, stream: `${stream}:events` }]);
      backend = run.backend;
      return run.rate;
    };

    const start = readCpuSnapshot(helpers);
    const warmup: Record<RedisCase, number> = { jsonl: NaN, redis: NaN, logged: NaN };
    for (const c of REDIS_CASES) warmup[c] = await runCase(c, 'bench-warmup');
    const rounds: RedisRound[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const order = roundOrder(REDIS_CASES, r);
      const rates: Record<RedisCase, number> = { jsonl: NaN, redis: NaN, logged: NaN };
      const { quietness } = await withQuietness(
        async () => {
          for (const c of order) rates[c] = await runCase(c, `bench-${r}`);
        },
        undefined,
        helpers,
      );
      rounds.push({
        round: r,
        order,
        rates,
        othersCores: quietness ? Math.round(quietness.othersCores * 1000) / 1000 : null,
        load1: quietness?.load1End ?? null,
        quiet: quietness?.quiet ?? false,
      });
    }
    const end = readCpuSnapshot(helpers);
    const whole = start && end ? quietnessBetween(start, end) : undefined;
    await client.del(stream, `${stream}:events`, `${stream}:events:models`);
    const s = summariseRedisRounds(rounds);
    return {
      records: o.records,
      batchSize: o.batchSize,
      features: o.features,
      backend,
      jsonlRecordsPerSecond: s.medians.jsonl,
      redisRecordsPerSecond: s.medians.redis,
      ratio: s.ratio,
      withLoggerRecordsPerSecond: s.medians.logged,
      loggerOverheadPercent: s.loggerOverheadPercent,
      warmup,
      rounds: s.rows,
      roundsUsed: s.roundsUsed,
      quietOnly: s.quietOnly,
      quietRounds: rounds.filter((r) => r.quiet).length,
      quiet: whole?.quiet ?? false,
      othersCores: whole ? Math.round(whole.othersCores * 1000) / 1000 : null,
      load1Start: whole?.load1Start ?? null,
      load1End: whole?.load1End ?? null,
      serverCpuCounted: serverPid !== undefined,
    };
  } finally {
    client.disconnect();
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
