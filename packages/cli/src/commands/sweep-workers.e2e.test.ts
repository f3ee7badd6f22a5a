import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '@engram/datasets/testing';
import { deterministicSummary, finalDigest, MAIN, runEngram } from './e2e-harness.js';
import type { SweepResults } from '../sweep/sweep-results.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

/** A small class-incremental pipeline: EWC on synthetic blobs, a checkpoint every 4 batches. */
const base = syntheticPipeline({
  name: 'sweep-e2e',
  data: {
    samplesPerClass: 150,
    separation: 1.5,
    spread: 1,
    scenario: { type: 'class-incremental', experiences: 2 },
    testFraction: 0.2,
  },
  model: {
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dropout', rate: 0.1 },
    ],
  },
  optimizer: { type: 'adam', learningRate: 0.01 },
  strategy: [{ kind: 'ewc', lambda: 10 }],
  training: { epochs: 3, batchSize: 16 },
  checkpoint: { everyBatches: 4, keep: 2 },
});

/** A spawned CLI process with its output so far and its exit. */
interface Proc {
  readonly child: ChildProcess;
  out: string;
  readonly exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, out: '', exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout?.on('data', (d: Buffer) => (proc.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (proc.out += d.toString()));
  return proc;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The job a worker is running now (its last "starting"/"resuming" line without a later "done"). */
function currentJob(out: string): string | undefined {
  const lines = out.split('\n');
  const started = lines
    .map((l) => /job \S+ (\S+): (starting|resuming)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  const last = started[started.length - 1];
  return last !== undefined && !out.includes(`${last}: done`) ? last : undefined;
}

describe('engram sweep --redis with two engram workers, one SIGKILLed mid-job', () => {
  let redis: TestRedis;
  let work: string;
  before(async () => {
    redis = await startRedis();
    work = mkdtempSync(join(tmpdir(), 'engram-sweep-e2e-'));
  });
  after(async () => {
    await redis.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'all 6 combinations finish (the killed job resumed by the other worker from its checkpoint) and each equals the ' +
      'combination run alone',
    async () => {
      writeFileSync(join(work, 'base.pipeline.json'), JSON.stringify(base));
      writeFileSync(
        join(work, 'ewc.sweep.json'),
        JSON.stringify({
          pipeline: 'base.pipeline.json',
          grid: { '/strategy/0/lambda': [1, 100, 10000], '/seed': [1, 2] },
          metric: 'ACC',
        }),
      );
      const out = join(work, 'out');
      const sweep = start(['sweep', join(work, 'ewc.sweep.json'), '--redis', redis.url, '--out', out]);
      const victim = start(['worker', '--redis', redis.url, '--lock-seconds', '2']);
      const survivor = start(['worker', '--redis', redis.url, '--lock-seconds', '2']);
      // the victim dies once its job has a checkpoint and is not finished
      let killedJob: string | undefined;
      for (let t = 0; t < 1200 && killedJob === undefined; t++) {
        await sleep(100);
        const job = currentJob(victim.out);
        if (job === undefined) continue;
        const checkpoints = join(out, job, 'checkpoints');
        if (
          existsSync(checkpoints) &&
          readdirSync(checkpoints).some((n) => n.startsWith('step-')) &&
          !existsSync(join(out, job, 'summary.json'))
        ) {
          victim.child.kill('SIGKILL');
          killedJob = job;
        }
      }
      assert.ok(killedJob, `the victim never had a job mid-way: ${victim.out}`);
      await victim.exited;
      const code = await sweep.exited;
      survivor.child.kill('SIGTERM');
      await survivor.exited;
      assert.equal(code, 0, sweep.out);
      assert.match(survivor.out, new RegExp(`${killedJob}: resuming from its checkpoint`), survivor.out);

      const results = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepResults;
      assert.equal(results.combinations.length, 6);
      assert.ok(
        results.combinations.every(
          (c) => c.status === 'done' && c.ACC !== null && c.BWT !== null && c.forgetting !== null,
        ),
        JSON.stringify(results.combinations),
      );
      assert.deepEqual(
        results.combinations.map((c) => c.rank),
        [1, 2, 3, 4, 5, 6],
      );
      const values = results.combinations.map((c) => c.value as number);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => b - a),
        'ranked best ACC first',
      );
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      assert.match(html, /data-pointer="\/strategy\/0\/lambda"[^]*<svg/);
      // seeds are repetitions, not a scale: no chart of their own (they colour the lambda chart's points)
      assert.doesNotMatch(html, /data-pointer="\/seed"/);

      // each combination, run alone with `engram run` on its pipeline.json, ends the same
      const names = results.combinations.map((c) => c.name).sort();
      for (let i = 0; i < names.length; i += 2) {
        await Promise.all(
          names.slice(i, i + 2).map(async (name) => {
            const alone = await runEngram(join(out, name, 'pipeline.json'), join(work, 'alone', name), []);
            assert.equal(alone.code, 0, alone.stderr);
            assert.deepEqual(
              deterministicSummary(join(out, name)),
              deterministicSummary(join(work, 'alone', name)),
              name,
            );
            assert.deepEqual(finalDigest(join(out, name)), finalDigest(join(work, 'alone', name)), name);
          }),
        );
      }
    },
  );
});
