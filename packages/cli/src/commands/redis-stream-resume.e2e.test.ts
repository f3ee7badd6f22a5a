import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '@engram/datasets/testing';
import { checkpointDirs, deterministicSummary, finalDigest, runEngram, type Exit } from './e2e-harness.js';

const TOTAL = 20_000;

/** Record `i` of the feed: 4 features, 4 classes whose centres move at 10,000 (deterministic). */
function record(i: number): string {
  const y = (i * 7 + Math.floor(i / 3)) % 4;
  const shift = i >= 10_000 ? 1.5 : 0;
  const x = Array.from(
    { length: 4 },
    (_, f) => ((y * 3 + f * 5 + i * 11) % 17) / 17 + (f === y ? 2 : 0) - shift * (f % 2),
  );
  return JSON.stringify({ x: x.map((v) => Number(v.toFixed(4))), y });
}

/** The pipeline: the server comes from ${ENGRAM_TEST_REDIS}, so the reference and the killed runs share one document. */
function pipeline(): unknown {
  return {
    name: 'redis-exactly-once',
    seed: 5,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'redis-stream',
      url: '${ENGRAM_TEST_REDIS}',
      stream: 'feed',
      group: 'trainer',
      start: '0',
      count: 200,
      blockMs: 200,
      inputShape: [4],
      numClasses: 4,
      buffer: 256,
    },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    training: { batchSize: 64, maxSamples: TOTAL, logEvery: 10 },
    checkpoint: { everyBatches: 25, keep: 1000 },
  };
}

/** Fills `stream` on a server with records 0…TOTAL−1; returns their ids. */
async function produce(url: string): Promise<string[]> {
  const redis = new Redis(url);
  const ids: string[] = [];
  for (let i = 0; i < TOTAL; i += 1000) {
    const p = redis.pipeline();
    for (let k = i; k < i + 1000; k++) p.xadd('feed', '*', 'data', record(k));
    for (const [, id] of (await p.exec()) ?? []) ids.push(id as string);
  }
  redis.disconnect();
  return ids;
}

type Event = { type: string; step?: number };
const at =
  (type: string, minStep: number) =>
  (line: string): boolean => {
    if (!line.startsWith('{')) return false;
    const e = JSON.parse(line) as Event;
    return e.type === type && (e.step ?? -1) >= minStep;
  };

/** The redis-stream position each checkpoint recorded, oldest first. */
function positions(
  out: string,
): Array<{ delivered: number; feed: { consumer: string; unacked: string[]; lastId: string } }> {
  // The source position is the checkpoint's `/data` state (state.json, checkpoint format 2).
  return checkpointDirs(out).map(
    (c) =>
      (
        JSON.parse(readFileSync(join(c, 'state.json'), 'utf8')) as Record<
          string,
          { meta: { delivered: number; feed: { consumer: string; unacked: string[]; lastId: string } } }
        >
      )['/data']?.meta as { delivered: number; feed: { consumer: string; unacked: string[]; lastId: string } },
  );
}

/** The prequential events of a run (its test-then-train series), without wall-clock fields. */
function prequentialSeries(out: string): string[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"prequential"'))
    .map((l) => {
      const { type, step, samples, accuracy, windowAccuracy, fadingAccuracy, loss } = JSON.parse(l) as Record<
        string,
        unknown
      >;
      return JSON.stringify({ type, step, samples, accuracy, windowAccuracy, fadingAccuracy, loss });
    });
}

/** What the group says: entries read, lag, pending. */
async function groupInfo(url: string): Promise<{ read: number; lag: number; pending: number }> {
  const redis = new Redis(url);
  const groups = (await redis.call('XINFO', 'GROUPS', 'feed')) as unknown[][];
  redis.disconnect();
  const g = groups[0] ?? [];
  const field = (name: string): number => Number(g[g.indexOf(name) + 1]);
  return { read: field('entries-read'), lag: field('lag'), pending: field('pending') };
}

describe('redis-stream source: exactly once across SIGKILLs (engram run --resume)', () => {
  let reference: TestRedis;
  let killed: TestRedis;
  let work: string;
  before(async () => {
    [reference, killed] = await Promise.all([startRedis(), startRedis()]);
    work = mkdtempSync(join(tmpdir(), 'engram-redis-e2e-'));
  });
  after(async () => {
    await Promise.all([reference.dispose(), killed.dispose()]);
    rmSync(work, { recursive: true, force: true });
  });

  it(
    '20,000 records, killed three times and resumed: each record is trained on once, all are acknowledged, and the ' +
      'prequential series and weights equal an uninterrupted run',
    async () => {
      const file = join(work, 'redis.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline()));
      const [refIds, ids] = await Promise.all([produce(reference.url), produce(killed.url)]);
      const run = (
        server: TestRedis,
        out: string,
        extra: string[],
        killWhen?: (line: string) => boolean,
      ): Promise<Exit> =>
        runEngram(file, join(work, out), extra, {
          env: { ...process.env, ENGRAM_TEST_REDIS: server.url },
          ...(killWhen ? { killWhen } : {}),
        });

      const ref = await run(reference, 'ref', []);
      assert.equal(ref.code, 0, ref.stderr);
      // right after a checkpoint; between two checkpoints (trained entries past the checkpoint are replayed); late
      const kills = [at('checkpoint', 75), at('prequential', 160), at('batch-end', 260)];
      let first = true;
      for (const when of kills) {
        const r = await run(killed, 'killed', first ? [] : ['--resume'], when);
        assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
        if (!first)
          assert.ok(
            (r.firstCheckpointStep ?? Infinity) > 75,
            `resumed run started over (first checkpoint at step ${r.firstCheckpointStep})`,
          );
        first = false;
      }
      const last = await run(killed, 'killed', ['--resume']);
      assert.equal(last.code, 0, last.stderr);

      // By id: the checkpoints' acknowledged batches partition the stream — every id once, in stream order.
      const refTrained = positions(join(work, 'ref')).flatMap((p) => p.feed.unacked);
      const trained = positions(join(work, 'killed')).flatMap((p) => p.feed.unacked);
      assert.equal(trained.length, TOTAL);
      assert.equal(new Set(trained).size, TOTAL, 'no id trained twice');
      assert.deepEqual(trained, ids, 'every id trained once, in stream order');
      assert.deepEqual(refTrained, refIds);
      assert.equal(
        new Set(positions(join(work, 'killed')).map((p) => p.feed.consumer)).size,
        1,
        'resumed runs keep the consumer name',
      );
      // Redis agrees: everything read and acknowledged, nothing pending.
      assert.deepEqual(await groupInfo(killed.url), { read: TOTAL, lag: 0, pending: 0 });
      assert.deepEqual(await groupInfo(reference.url), { read: TOTAL, lag: 0, pending: 0 });
      // Deterministic outcome: same prequential series, summary and final weights as the uninterrupted run.
      assert.deepEqual(prequentialSeries(join(work, 'killed')), prequentialSeries(join(work, 'ref')));
      assert.deepEqual(deterministicSummary(join(work, 'killed')), deterministicSummary(join(work, 'ref')));
      assert.deepEqual(finalDigest(join(work, 'killed')), finalDigest(join(work, 'ref')));
    },
  );
});
