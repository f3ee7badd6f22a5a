import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '@engram/datasets/testing';
import { checkpointDirs, MAIN, runEngram } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

/** Record `i`: 4 features, 3 classes (deterministic). */
function record(i: number): string {
  const y = (i * 5 + Math.floor(i / 7)) % 3;
  return JSON.stringify({
    x: [y + ((i * 13) % 11) / 11, ((i * 7) % 5) / 5, 1 - y + ((i * 3) % 7) / 7, (i % 4) / 4].map((v) =>
      Number(v.toFixed(4)),
    ),
    y,
  });
}

/** Appends records `from`…`to − 1` to `stream` (bad records where `bad(i)`); returns the ids of the good ones. */
async function produce(
  url: string,
  from: number,
  to: number,
  bad: (i: number) => boolean = () => false,
): Promise<string[]> {
  const redis = new Redis(url);
  const ids: string[] = [];
  try {
    for (let i = from; i < to; i += 500) {
      const p = redis.pipeline();
      const kinds: boolean[] = [];
      for (let k = i; k < Math.min(to, i + 500); k++) {
        kinds.push(bad(k));
        p.xadd('feed', '*', 'data', bad(k) ? '{"x": [1, 2], "y": 0}' : record(k));
      }
      ((await p.exec()) ?? []).forEach(([, id], n) => {
        if (kinds[n] === false) ids.push(id as string);
      });
    }
  } finally {
    redis.disconnect();
  }
  return ids;
}

/** A redis-stream pipeline reading `feed` on ${ENGRAM_TEST_REDIS} through `group`, stopping after `samples`. */
function pipeline(group: string, strategy: unknown, samples: number): unknown {
  return {
    name: `redis-${group}`,
    seed: 11,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'redis-stream',
      url: '${ENGRAM_TEST_REDIS}',
      stream: 'feed',
      group,
      start: '0',
      count: 100,
      blockMs: 100,
      inputShape: [4],
      numClasses: 3,
      buffer: 128,
    },
    model: { layers: [{ type: 'dense', units: 12, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy,
    training: { batchSize: 32, maxSamples: samples, logEvery: 5 },
    checkpoint: { everyBatches: 10, keep: 1000 },
  };
}

/**
 * The entries a run trained on, in order: the ids its checkpoints listed for acknowledgement. An id
 * listed while Redis was down is listed again by the next checkpoint (its XACK was deferred), so each
 * counts once; that no entry was trained twice shows in the sample count.
 */
function trainedIds(out: string): string[] {
  const ids = checkpointDirs(out).flatMap(
    (c) =>
      (
        JSON.parse(readFileSync(join(c, 'state.json'), 'utf8')) as Record<
          string,
          { meta: { feed: { unacked: string[] } } }
        >
      )['/data']?.meta.feed.unacked ?? [],
  );
  return [...new Set(ids)];
}

/** What a consumer group says: entries read, pending. */
async function groupInfo(url: string, group: string): Promise<{ read: number; pending: number }> {
  const redis = new Redis(url);
  const groups = (await redis.call('XINFO', 'GROUPS', 'feed')) as unknown[][];
  redis.disconnect();
  const g = groups.find((x) => x[x.indexOf('name') + 1] === group) ?? [];
  const field = (name: string): number => Number(g[g.indexOf(name) + 1]);
  return { read: field('entries-read'), pending: field('pending') };
}

interface Summary {
  status: string;
  warnings: number;
  badRecords: Record<string, number>;
  prequential: { samples: number; accuracy: number } | null;
  trainSamples: number;
  replayedSamples: number;
}
const summaryOf = (out: string): Summary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;

/** Runs `engram <args>` and resolves with its exit code and output. */
function engram(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('engram run on a Redis stream: two consumer groups side by side, then engram compare', () => {
  let server: TestRedis;
  let work: string;
  before(async () => {
    server = await startRedis();
    work = mkdtempSync(join(tmpdir(), 'engram-redis-groups-'));
  });
  after(async () => {
    await server.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('each group trains on every record (bad ones counted in summary.json), and compare shows both by prequential accuracy', async () => {
    const TOTAL = 2400;
    const ids = await produce(server.url, 0, TOTAL + 3, (i) => i === 100 || i === 1000 || i === 2000);
    assert.equal(ids.length, TOTAL);
    const env = { ...process.env, ENGRAM_TEST_REDIS: server.url };
    const runs = [
      ['naive', { kind: 'naive' }],
      ['ewc', { kind: 'ewc', lambda: 10 }],
    ] as const;
    const exits = await Promise.all(
      runs.map(([group, strategy]) => {
        const file = join(work, `${group}.pipeline.json`);
        writeFileSync(file, JSON.stringify(pipeline(group, strategy, TOTAL)));
        return runEngram(file, join(work, group), [], { env });
      }),
    );
    for (const [k, exit] of exits.entries()) assert.equal(exit.code, 0, `${runs[k]?.[0]}: ${exit.stderr}`);
    for (const [group] of runs) {
      const out = join(work, group);
      assert.deepEqual(trainedIds(out), ids, `group ${group} trained on every good record, in stream order`);
      const s = summaryOf(out);
      assert.equal(s.status, 'completed');
      assert.equal(s.prequential?.samples, TOTAL);
      assert.equal(s.trainSamples, TOTAL, `group ${group}: trained records`);
      assert.equal(s.replayedSamples, 0, `group ${group}: nothing replayed`);
      assert.deepEqual(
        s.badRecords,
        { 'redis-stream feed': 3 },
        `group ${group}: the dead-lettered records are counted`,
      );
      assert.deepEqual(await groupInfo(server.url, group), { read: TOTAL + 3, pending: 0 });
    }
    const html = join(work, 'compare.html');
    const cmp = await engram(['compare', join(work, 'naive'), join(work, 'ewc'), '--html', html]);
    assert.equal(cmp.code, 0, cmp.stderr);
    const lines = cmp.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /\bpreq\. acc\s+samples\s+time$/);
    for (const [k, [group, strategy]] of runs.entries()) {
      const s = summaryOf(join(work, group));
      assert.match(
        lines[k + 2] ?? '',
        new RegExp(
          `^${group}\\s+${strategy.kind}\\s+stream\\s.*\\s${((s.prequential?.accuracy ?? NaN) * 100).toFixed(1)}%\\s+${TOTAL}\\s`,
        ),
      );
    }
    assert.match(readFileSync(html, 'utf8'), /data-chart="stream-comparison"/);
  });
});

describe('engram run on a Redis stream while redis-server is stopped and restarted', () => {
  let server: TestRedis;
  let work: string;
  before(async () => {
    server = await startRedis({ persistence: true });
    work = mkdtempSync(join(tmpdir(), 'engram-redis-restart-'));
  });
  after(async () => {
    await server.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('reports one warning and trains on every record produced before and after the restart', async () => {
    const HALF = 1500;
    const ids = await produce(server.url, 0, HALF);
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline('trainer', { kind: 'naive' }, 2 * HALF)));
    let outage: Promise<void> | undefined;
    let stuck = false;
    const exit = await runEngram(file, join(work, 'out'), [], {
      env: { ...process.env, ENGRAM_TEST_REDIS: server.url },
      // A run that lost a record (or hangs on a dead command) never reaches maxSamples: bound it.
      onSpawn: (child) => {
        const timer = setTimeout(() => {
          stuck = true;
          child.kill('SIGKILL');
        }, patience(120_000));
        child.once('exit', () => clearTimeout(timer));
      },
      onLine: (line) => {
        // Once 1,300 are trained the consumer has read all 1,500 records and waits in a blocking
        // XREADGROUP: the server goes away under it for a second, comes back (its append-only file
        // keeps the stream and the group), and 1,500 more records arrive.
        if (
          outage === undefined &&
          line.startsWith('{"type":"prequential"') &&
          (JSON.parse(line) as { samples: number }).samples >= HALF - 200
        ) {
          outage = (async () => {
            await server.stop();
            await new Promise((r) => setTimeout(r, 1000));
            await server.restart();
            ids.push(...(await produce(server.url, HALF, 2 * HALF)));
          })();
        }
      },
    });
    assert.ok(outage, 'the server was stopped mid-run');
    await outage;
    assert.equal(stuck, false, `the run did not finish in 120 s after the restart: ${exit.stderr}`);
    assert.equal(exit.code, 0, exit.stderr);
    const out = join(work, 'out');
    const warnings = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"warning"'))
      .map((l) => (JSON.parse(l) as { message: string }).message);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0] ?? '',
      /^redis-stream feed: connection to redis:\/\/127\.0\.0\.1:\d+ lost \(.*\); reconnecting with backoff, no entry is lost$/,
    );
    const s = summaryOf(out);
    assert.equal(s.warnings, 1);
    assert.equal(s.prequential?.samples, 2 * HALF, 'trained samples = produced records');
    assert.deepEqual(
      trainedIds(out),
      ids,
      'every record trained on, in stream order (with the count above: each once)',
    );
    assert.deepEqual(await groupInfo(server.url, 'trainer'), { read: 2 * HALF, pending: 0 });
  });
});
