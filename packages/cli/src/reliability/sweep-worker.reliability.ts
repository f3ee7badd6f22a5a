import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineError } from '@engram/core';
import { startRedis } from '@engram/datasets/testing';
import { loadSweep } from '../sweep/sweep-plan.js';
import type { SweepResults } from '../sweep/sweep-results.js';
import { assertClean, engram } from './cli-runner.js';
import { basePipeline } from './corpus.js';
import { sleep, start, type Proc } from './worker-procs.js';
import { reportCases } from './cases.js';

function work(): string {
  const dir = mkdtempSync(join(tmpdir(), 'engram-sweep-rel-'));
  writeFileSync(join(dir, 'base.json'), JSON.stringify(basePipeline()));
  return dir;
}

/** Writes a sweep over base.json; returns its path. */
function sweepFile(dir: string, name: string, body: Record<string, unknown>): string {
  const file = join(dir, `${name}.sweep.json`);
  writeFileSync(file, JSON.stringify({ pipeline: 'base.json', ...body }));
  return file;
}

/** The problems `loadSweep` refuses `file` with (PipelineError: exit 2 in the CLI). */
async function refusal(file: string): Promise<string[]> {
  try {
    await loadSweep(file);
  } catch (e) {
    assert.ok(e instanceof PipelineError, `${file}: ${String(e)}`);
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail(`${file} was accepted`);
}

test('sweep keys through __proto__, constructor or prototype are refused at their pointer and nothing reaches Object.prototype', async () => {
  const dir = work();
  try {
    const keys = [
      '/__proto__/polluted',
      '/__proto__/NODE_OPTIONS',
      '/constructor/prototype/polluted',
      '/data/__proto__/polluted',
      '/model/constructor',
      '/optimizer/prototype',
      '/strategy/__proto__',
      '/__proto__',
    ];
    let tried = 0;
    for (const key of keys) {
      for (const where of ['grid', 'random'] as const) {
        const body =
          where === 'grid'
            ? { grid: { [key]: [1, 2] } }
            : { random: { samples: 2, seed: 0, space: { [key]: { values: [1, 2] } } } };
        const problems = await refusal(sweepFile(dir, `${where}-${tried}`, body));
        const at = `/${where === 'grid' ? 'grid' : 'random/space'}/${key.replace(/\//g, '~1')}`;
        assert.ok(
          problems.some((p) => p.startsWith(`${at}: `) && /is not allowed in a pointer/.test(p)),
          `${key}: ${problems.join('; ')}`,
        );
        tried++;
      }
    }
    const probe = {} as Record<string, unknown>;
    assert.equal(probe['polluted'], undefined);
    assert.equal(probe['NODE_OPTIONS'], undefined);
    const cli = await engram(
      ['sweep', sweepFile(dir, 'cli', { grid: { '/__proto__/polluted': [1, 2] } }), '--out', 'o'],
      {
        cwd: dir,
      },
    );
    assert.equal(cli.code, 2, cli.stderr);
    assertClean(cli.stderr, 'proto key');
    assert.match(cli.stderr, /\/grid\/~1__proto__~1polluted: "__proto__" is not allowed/);
    reportCases('sweep-worker', tried + 1);
    console.log(`# sweep keys: ${tried + 1} prototype-polluting keys refused (exit 2)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep over maxCombinations is refused from the product of its sizes, before anything is expanded', async () => {
  const dir = work();
  try {
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'grid 10^6',
        { grid: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [`/${k}`, ten])) },
        /^\/grid: the sweep has 1,000,000 combinations \(10 × 10 × 10 × 10 × 10 × 10\), over maxCombinations 10,000/,
      ],
      [
        'random 10^4 × grid 10^2',
        {
          grid: { '/seed': Array.from({ length: 100 }, (_, i) => i) },
          random: { samples: 10000, seed: 0, space: { '/optimizer/learningRate': { min: 0.001, max: 0.1 } } },
        },
        /^\/grid: the sweep has 1,000,000 combinations \(100 × 10000\)/,
      ],
      [
        'grid 12 over a raised limit of 11',
        { grid: { '/seed': ten.concat([11, 12]) }, maxCombinations: 11 },
        /12 combinations/,
      ],
    ];
    for (const [what, body, says] of cases) {
      const t0 = performance.now();
      const problems = await refusal(sweepFile(dir, what.replace(/\W+/g, '-'), body));
      assert.ok(
        problems.some((p) => says.test(p)),
        `${what}: ${problems.join('; ')}`,
      );
      console.log(`# ${what}: refused in ${Math.round(performance.now() - t0)} ms`);
    }
    const within = await loadSweep(sweepFile(dir, 'raised', { grid: { '/seed': [1, 2, 3] }, maxCombinations: 3 }));
    assert.equal(within.combinations.length, 3);
    reportCases('sweep-worker', cases.length + 1);
    console.log(`# sweep sizes: ${cases.length + 1} cases`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep or a pipeline naming a file that is not JSON says so with its line and column and quotes none of it', async () => {
  const dir = work();
  try {
    writeFileSync(join(dir, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\nTOKEN=hunter2\n');
    writeFileSync(join(dir, 'half.json'), '{"name": "x",\n  "seed": tok3n-s3cret }');
    const runs = [
      ['sweep', sweepFile(dir, 'passwd', { pipeline: '/etc/passwd', grid: { '/seed': [1, 2] } }), '--out', 'o1'],
      ['sweep', sweepFile(dir, 'secret', { pipeline: 'secret.txt', grid: { '/seed': [1, 2] } }), '--out', 'o2'],
      ['sweep', sweepFile(dir, 'half', { pipeline: 'half.json', grid: { '/seed': [1, 2] } }), '--out', 'o3'],
      ['run', 'load-passwd.json', '--out', 'o4'],
      ['run', 'secret.txt', '--out', 'o5'],
    ];
    writeFileSync(join(dir, 'load-passwd.json'), JSON.stringify({ ...basePipeline(), model: { load: '/etc/passwd' } }));
    for (const args of runs) {
      const r = await engram(args, { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assertClean(r.stderr, args.join(' '));
      assert.doesNotMatch(r.stderr, /root:|hunter2|tok3n|s3cret|\/bin\/bash/, args.join(' '));
      assert.match(r.stderr, /invalid JSON at line \d+, column \d+/, args.join(' '));
    }
    reportCases('sweep-worker', runs.length);
    console.log(`# unparsable files: ${runs.length} named without their content`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engram sweep --redis and engram worker with an unreachable Redis each exit 1 with one line', async () => {
  const dir = work();
  try {
    const file = sweepFile(dir, 's', { grid: { '/seed': [1, 2] } });
    const [sweep, worker] = await Promise.all([
      engram(['sweep', file, '--out', 'o', '--redis', 'redis://127.0.0.1:1'], { cwd: dir }),
      engram(['worker', '--redis', 'redis://127.0.0.1:1'], { cwd: dir }),
    ]);
    for (const [what, r] of [
      ['sweep', sweep],
      ['worker', worker],
    ] as const) {
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      assertClean(r.stderr, what);
      assert.match(r.stderr, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: ECONNREFUSED/m, what);
      assert.doesNotMatch(r.stderr, /TCPConnectWrap|Unhandled error/, what);
    }
    reportCases('sweep-worker', 2);
    console.log('# redis unreachable: 2 clients (sweep, worker) exit 1 with one line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a distributed sweep reports a diverging combination failed and exits 1, as a local sweep does', async () => {
  const dir = work();
  const redis = await startRedis();
  const procs: Proc[] = [];
  try {
    const file = sweepFile(dir, 'lr', { grid: { '/optimizer/learningRate': [0.01, 1e9] } });
    const sweep = start(['sweep', file, '--out', 'dist', '--redis', redis.url], dir);
    const worker = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(sweep, worker);
    const code = await sweep.exited;
    assert.equal(code, 1, sweep.out);
    const local = await engram(['sweep', file, '--out', 'local'], { cwd: dir });
    assert.equal(local.code, 1, local.stderr);
    for (const out of ['dist', 'local']) {
      const results = JSON.parse(readFileSync(join(dir, out, 'sweep.json'), 'utf8')) as SweepResults;
      const byLr = new Map(results.combinations.map((c) => [c.overrides['/optimizer/learningRate'], c]));
      assert.equal(byLr.get(0.01)?.status, 'done', out);
      assert.equal(byLr.get(1e9)?.status, 'failed', out);
      assert.match(byLr.get(1e9)?.error ?? '', /loss is|NaN|not finite/i, out);
    }
    assert.doesNotMatch(worker.out, /lr=1e\+?9: done/, worker.out);
    reportCases('sweep-worker', 1);
    console.log('# distributed sweep: a failed combination is failed (exit 1), as locally');
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Redis restarted without persistence during a job: the sweep queues the lost job again and finishes, exit 0', async () => {
  const dir = work();
  const redis = await startRedis();
  const procs: Proc[] = [];
  try {
    const doc = basePipeline();
    doc['training'] = { epochs: 4, batchSize: 4 };
    writeFileSync(join(dir, 'base.json'), JSON.stringify(doc));
    const file = sweepFile(dir, 'seeds', { grid: { '/seed': [1, 2] } });
    const sweep = start(['sweep', file, '--out', 'out', '--redis', redis.url, '--redis-wait', '600'], dir);
    const worker = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
    procs.push(sweep, worker);
    for (let t = 0; t < 6000 && !/job \S+ \S+: starting/.test(worker.out); t++) await sleep(100);
    assert.match(worker.out, /starting/, worker.out);
    await redis.restart();
    const code = await sweep.exited;
    assert.equal(code, 0, sweep.out);
    assert.match(sweep.out, /gone from Redis .*queued again/, sweep.out);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'sweep.json'), 'utf8')) as SweepResults;
    assert.deepEqual(
      results.combinations.map((c) => c.status),
      ['done', 'done'],
    );
    reportCases('sweep-worker', 1);
    console.log('# redis restart: lost jobs requeued, sweep finished');
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
