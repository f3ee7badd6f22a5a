import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type TestRedis } from '@engram/datasets/testing';
import type { SweepResults } from '../sweep/sweep-results.js';
import { patience } from '../testing/patience.js';
import { basePipeline } from './corpus.js';
import { start, stopAll, until, type Proc } from './worker-procs.js';
import { reportCases } from './cases.js';

/** A folder with a 2-seed sweep over a pipeline that trains long enough (4 epochs at batch 4) to be caught mid-job. */
function work(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'engram-sweep-outage-'));
  const doc = basePipeline();
  doc['training'] = { epochs: 4, batchSize: 4 };
  writeFileSync(join(dir, 'base.json'), JSON.stringify(doc));
  const file = join(dir, 'seeds.sweep.json');
  writeFileSync(file, JSON.stringify({ pipeline: 'base.json', grid: { '/seed': [1, 2] } }));
  return { dir, file };
}

const statuses = (dir: string): string[] =>
  (JSON.parse(readFileSync(join(dir, 'out', 'sweep.json'), 'utf8')) as SweepResults).combinations.map((c) => c.status);

/** Runs `body` with a fresh folder, a Redis server and a list of processes it starts; stops all of them after. */
async function withSweep(
  persistence: boolean,
  body: (w: { dir: string; file: string; redis: TestRedis; procs: Proc[] }) => Promise<void>,
): Promise<void> {
  const w = work();
  const redis = await startRedis({ persistence });
  const procs: Proc[] = [];
  try {
    await body({ ...w, redis, procs });
  } finally {
    await stopAll(procs);
    await redis.dispose();
    rmSync(w.dir, { recursive: true, force: true });
  }
}

test('engram worker treats SIGHUP like SIGTERM: its job stops at a checkpoint, exit 0, and another worker resumes it', async () => {
  await withSweep(false, async ({ dir, file, redis, procs }) => {
    const sweep = start(['sweep', file, '--out', 'out', '--redis', redis.url], dir);
    const first = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(sweep, first);
    assert.ok(await until(() => /job \S+ \S+: starting/.test(first.out), patience(120_000)), first.out);
    first.child.kill('SIGHUP');
    assert.equal(await first.exited, 0, first.out);
    assert.match(first.out, /SIGHUP: stopping the current job at a checkpoint/, first.out);
    assert.doesNotMatch(first.out, /killed by SIGHUP/, first.out);
    const second = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(second);
    assert.equal(await sweep.exited, 0, `${sweep.out}\n${second.out}`);
    assert.deepEqual(statuses(dir), ['done', 'done']);
    reportCases('sweep-worker-outages', 1);
    console.log('# worker SIGHUP: clean stop (exit 0), the job finished by another worker');
  });
});

test('a Redis stopped mid-sweep and started again within --redis-wait: the sweep says it waits, says Redis is back, and finishes; the worker reconnects', async () => {
  await withSweep(true, async ({ dir, file, redis, procs }) => {
    const sweep = start(['sweep', file, '--out', 'out', '--redis', redis.url, '--redis-wait', '600'], dir);
    const worker = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(sweep, worker);
    assert.ok(await until(() => /job \S+ \S+: starting/.test(worker.out), patience(120_000)), worker.out);
    await redis.stop();
    const waiting = /Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer; waiting up to 600 s for it to return/;
    assert.ok(await until(() => waiting.test(sweep.out), patience(60_000)), sweep.out);
    await redis.restart();
    assert.equal(await sweep.exited, 0, `${sweep.out}\n${worker.out}`);
    assert.match(sweep.out, /Redis at redis:\/\/127\.0\.0\.1:\d+ is back/, sweep.out);
    assert.equal(sweep.out.match(waiting)?.length, 1, 'one line for the outage');
    assert.deepEqual(statuses(dir), ['done', 'done']);
    // The worker's outage is one line per distinct error, never a stack.
    assert.doesNotMatch(`${sweep.out}\n${worker.out}`, /\n\s+at |TCPConnectWrap|Unhandled error/);
    assert.ok(
      (worker.out.match(/worker error: ECONNREFUSED/g) ?? []).length <= 2,
      `one line per outage, not per reconnection: ${worker.out}`,
    );
    reportCases('sweep-worker-outages', 1);
    console.log('# redis stopped and restarted mid-sweep: waited, back, finished');
  });
});

test('a Redis stopped mid-sweep for longer than --redis-wait: the sweep gives up with one line and exit 1 in bounded time', async () => {
  await withSweep(true, async ({ dir, file, redis, procs }) => {
    const sweep = start(['sweep', file, '--out', 'out', '--redis', redis.url, '--redis-wait', '2'], dir);
    const worker = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(sweep, worker);
    assert.ok(await until(() => /job \S+ \S+: starting/.test(worker.out), patience(120_000)), worker.out);
    await redis.stop();
    const stopped = Date.now();
    const code = await sweep.exited;
    const seconds = (Date.now() - stopped) / 1000;
    await redis.restart(); // the worker can then close cleanly
    assert.equal(code, 1, sweep.out);
    assert.match(sweep.out, /does not answer; waiting up to 2 s for it to return/, sweep.out);
    assert.match(sweep.out, /did not answer for \d+ s; giving up \(the combinations keep their checkpoints/, sweep.out);
    assert.doesNotMatch(sweep.out, /\n\s+at |TCPConnectWrap|Unhandled error/, sweep.out);
    // Bounded: the wait (2 s) plus at most two 5 s polls that did not come back, on a loaded machine.
    assert.ok(seconds < patience(30_000) / 1000, `gave up after ${seconds.toFixed(1)} s`);
    reportCases('sweep-worker-outages', 1);
    console.log(`# redis stopped past --redis-wait 2: sweep gave up after ${seconds.toFixed(1)} s, exit 1`);
  });
});
