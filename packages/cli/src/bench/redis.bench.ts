import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { startRedis } from '@engram/datasets/testing';
import { CLI_DIR } from '../sweep/sweep-paths.js';

/** Options of {@link redisBench}. */
export interface RedisBenchOptions {
  /** Records per run. */
  readonly records: number;
  readonly batchSize: number;
  /** Features per record. */
  readonly features: number;
  /** An existing server (default: a throw-away redis-server on a free port). */
  readonly url?: string;
  readonly backend: string;
}

/** What the Redis benchmark measured (records/s are end to end: read, parse, queue, train). */
export interface RedisBenchResult {
  readonly records: number;
  readonly jsonlRecordsPerSecond: number;
  readonly redisRecordsPerSecond: number;
  /** redis / jsonl (goal ≥ 0.9). */
  readonly ratio: number;
  readonly withLoggerRecordsPerSecond: number;
  /** 1 − with logger / without, in % (goal ≤ 5). */
  readonly loggerOverheadPercent: number;
  readonly backend: string;
}

const CLASSES = 4;

function record(i: number, features: number): string {
  const y = i % CLASSES;
  return JSON.stringify({ x: Array.from({ length: features }, (_, f) => Number(((f % CLASSES === y ? 2 : 0) + ((i * 7 + f * 3) % 11) / 11).toFixed(4))), y });
}

/** One stream-mode run of `data` on the shared model; records/s from the run's own wall time. */
async function trainedPerSecond(data: unknown, o: RedisBenchOptions, dir: string, loggers: unknown[] = []): Promise<{ rate: number; backend: string }> {
  const doc = {
    name: 'bench-redis', seed: 0, backend: o.backend, plugins: ['@engram/datasets', '@engram/strategies'], data,
    model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.001 },
    strategy: { kind: 'naive' },
    training: { batchSize: o.batchSize, maxSamples: o.records, logEvery: 50 },
    checkpoint: { enabled: true, everyBatches: 200, keep: 1 },
    loggers,
  };
  const out = mkdtempSync(join(dir, 'run-'));
  const loaded = await preparePipeline(doc, join(dir, 'bench.pipeline.json'), { resolveFrom: [CLI_DIR], builtins: [corePlugin] });
  const { summary, backend } = await runPipeline(loaded, { outDir: out });
  if (summary.trainSamples < o.records) throw new Error(`trained on ${summary.trainSamples} of ${o.records} records`);
  return { rate: summary.trainSamples / summary.wallSeconds, backend: backend.description };
}

/**
 * Records/s consumed and trained end to end from a Redis stream (consumer group, acks after each
 * checkpoint) vs from a local JSON-lines file (`jsonl-follow`) holding the same records, on the same
 * model; then the JSONL run again with the `redis-stream` events logger, for its overhead.
 */
export async function redisBench(o: RedisBenchOptions): Promise<RedisBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-redis-'));
  const server = o.url === undefined ? await startRedis() : undefined;
  const url = o.url ?? server?.url ?? '';
  const stream = `engram:bench:${Date.now()}`;
  try {
    const lines: string[] = [];
    const client = new Redis(url);
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
    const shape = { inputShape: [o.features], numClasses: CLASSES, buffer: 1024 };
    const jsonl = await trainedPerSecond({ kind: 'jsonl-follow', path: 'feed.jsonl', pollMs: 20, ...shape }, o, dir);
    const redis = await trainedPerSecond({ kind: 'redis-stream', url, stream, group: 'bench', start: '0', count: 500, blockMs: 100, ...shape }, o, dir);
    const logged = await trainedPerSecond({ kind: 'jsonl-follow', path: 'feed.jsonl', pollMs: 20, ...shape }, o, dir, [{ kind: 'redis-stream', url, stream: `${stream}:events` }]);
    await client.del(stream, `${stream}:events`, `${stream}:events:models`);
    client.disconnect();
    return {
      records: o.records,
      jsonlRecordsPerSecond: jsonl.rate,
      redisRecordsPerSecond: redis.rate,
      ratio: redis.rate / jsonl.rate,
      withLoggerRecordsPerSecond: logged.rate,
      loggerOverheadPercent: 100 * (1 - logged.rate / jsonl.rate),
      backend: jsonl.backend,
    };
  } finally {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
