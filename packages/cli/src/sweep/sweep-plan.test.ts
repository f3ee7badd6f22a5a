import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PipelineError } from '@engram/core';
import { setAtPointer } from './json-pointer.js';
import { loadSweep, sweepJobs } from './sweep-plan.js';
import { CLI_MAIN } from './sweep-paths.js';

const base = {
  name: 'tiny',
  seed: 1,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: {
    kind: 'synthetic',
    numClasses: 4,
    features: 4,
    samplesPerClass: 20,
    scenario: { type: 'class-incremental', experiences: 2 },
  },
  model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  strategy: [{ kind: 'ewc', lambda: 10 }],
  training: { epochs: 1, batchSize: 16 },
  checkpoint: { dir: 'shared-checkpoints' },
};

describe('sweep.json', () => {
  const work = mkdtempSync(join(tmpdir(), 'engram-sweep-plan-'));
  writeFileSync(join(work, 'base.pipeline.json'), JSON.stringify(base));
  const sweepFile = (doc: unknown, name = 's.sweep.json'): string => {
    const file = join(work, name);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };
  after(() => rmSync(work, { recursive: true, force: true }));

  it('expands the grid (first pointer slowest) times the seeded random draws, each checkpointing in its own folder', async () => {
    const file = sweepFile({
      pipeline: 'base.pipeline.json',
      grid: { '/strategy/0/lambda': [1, 100, 10000], '/seed': [1, 2] },
      random: {
        samples: 2,
        seed: 3,
        space: {
          '/optimizer/learningRate': { min: 0.0001, max: 0.1, log: true },
          '/training/batchSize': { values: [8, 32] },
        },
      },
    });
    const plan = await loadSweep(file);
    assert.equal(plan.combinations.length, 12);
    assert.equal(plan.metric, 'ACC');
    assert.equal(plan.goal, 'max');
    assert.deepEqual(plan.pointers, ['/strategy/0/lambda', '/seed', '/optimizer/learningRate', '/training/batchSize']);
    assert.deepEqual(
      plan.combinations.map((c) => [c.overrides['/strategy/0/lambda'], c.overrides['/seed']]),
      [
        [1, 1],
        [1, 1],
        [1, 2],
        [1, 2],
        [100, 1],
        [100, 1],
        [100, 2],
        [100, 2],
        [10000, 1],
        [10000, 1],
        [10000, 2],
        [10000, 2],
      ],
    );
    const lr = plan.combinations.map((c) => c.overrides['/optimizer/learningRate'] as number);
    assert.ok(lr.every((v) => v >= 0.0001 && v <= 0.1));
    assert.notEqual(lr[0], lr[1], 'two different draws');
    assert.deepEqual(lr.slice(2, 4), lr.slice(0, 2), 'the same draws for every grid point');
    assert.deepEqual((await loadSweep(file)).combinations, plan.combinations, 'the draws follow the seed');
    assert.match(plan.combinations[4]?.name ?? '', /^c04-lambda=100_seed=1_learningRate=[\d.e-]+_batchSize=(8|32)$/);
    const jobs = sweepJobs(plan, join(work, 'out'));
    const doc = jobs[4]?.doc as typeof base & { checkpoint: Record<string, unknown> };
    assert.equal(doc.strategy[0]?.lambda, 100);
    assert.equal(doc.checkpoint['dir'], undefined, 'a shared checkpoint.dir of the base is dropped');
    assert.equal(doc.checkpoint['enabled'], true);
    assert.equal(jobs[4]?.outDir, join(work, 'out', plan.combinations[4]?.name ?? ''));
    assert.equal(base.strategy[0]?.lambda, 10, 'the base document is not modified');
  });

  it('rejects a bad sweep with JSON-pointer problems, like a pipeline', async () => {
    const problems = async (doc: unknown): Promise<string[]> => {
      try {
        await loadSweep(sweepFile(doc, 'bad.sweep.json'));
      } catch (e) {
        assert.ok(e instanceof PipelineError, String(e));
        return e.problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    };
    assert.match(
      (await problems({ pipeline: 'base.pipeline.json', grid: { '/seed': [] } })).join('\n'),
      /\/grid\/~1seed: .*fewer than 1 items/,
    );
    assert.match(
      (await problems({ pipeline: 'base.pipeline.json', grid: { seed: [1] } })).join('\n'),
      /\/grid\/seed: "seed" is not a JSON pointer/,
    );
    assert.match(
      (await problems({ pipeline: 'base.pipeline.json', grid: { '/strategy/3/lambda': [1] } })).join('\n'),
      /\/grid\/~1strategy~13~1lambda: .*array of 1, no index 3/,
    );
    assert.match(
      (await problems({ pipeline: 'base.pipeline.json', grid: { '/seed': [1] }, metric: 'accuracy' })).join('\n'),
      /\/metric: /,
    );
    assert.match(
      (await problems({ pipeline: 'base.pipeline.json', grid: { '/training/epochs': [1, 0] } })).join('\n'),
      /\/training\/epochs: .*\(combination c01-epochs=0\)/,
    );
    assert.match((await problems({ pipeline: 'missing.json', grid: { '/seed': [1] } })).join('\n'), /\/pipeline: /);
    assert.match(
      (
        await problems({
          pipeline: 'base.pipeline.json',
          random: { samples: 1, space: { '/optimizer/learningRate': { min: 0, max: 1, log: true } } },
        })
      ).join('\n'),
      /\/random\/space\/~1optimizer~1learningRate\/min: must be > 0/,
    );
  });

  it('engram sweep exits 2 with one line per problem for an invalid sweep', () => {
    const file = sweepFile(
      { pipeline: 'base.pipeline.json', grid: { '/strategy/0/nope/deeper': [1] }, extra: true },
      'invalid.sweep.json',
    );
    const r = spawnSync(process.execPath, [CLI_MAIN, 'sweep', file, '--out', join(work, 'never')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\/extra: unknown property/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('sets values at JSON pointers, escaping ~0 and ~1', () => {
    const doc = { a: { 'b/c': 1, 'd~e': [0, 1] } };
    setAtPointer(doc, '/a/b~1c', 2);
    setAtPointer(doc, '/a/d~0e/1', 5);
    setAtPointer(doc, '/a/new', true);
    assert.deepEqual(doc, { a: { 'b/c': 2, 'd~e': [0, 5], new: true } });
    assert.throws(() => setAtPointer(doc, '/x/y', 1), /nothing at \/x/);
  });

  it('refuses pointers through __proto__, constructor or prototype, and never writes through a prototype', async () => {
    for (const key of ['/__proto__/polluted', '/constructor/prototype/x', '/data/__proto__']) {
      await assert.rejects(
        loadSweep(sweepFile({ pipeline: 'base.pipeline.json', grid: { [key]: [1, 2] } }, 'proto.sweep.json')),
        (e: unknown) =>
          e instanceof PipelineError &&
          e.problems.some(
            (p) => p.path === `/grid/${key.replace(/\//g, '~1')}` && /is not allowed in a pointer/.test(p.message),
          ),
        key,
      );
    }
    assert.throws(() => setAtPointer({}, '/__proto__/polluted', 1), /"__proto__" is not allowed/);
    assert.throws(
      () => setAtPointer({}, '/toString/x', 1),
      /nothing at \/toString/,
      'an inherited key is not followed',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses more combinations than maxCombinations (default 10,000) from the product of the sizes', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    await assert.rejects(
      loadSweep(
        sweepFile(
          {
            pipeline: 'base.pipeline.json',
            grid: { '/seed': hundred, '/strategy/0/lambda': hundred, '/training/epochs': [1, 2] },
          },
          'big.sweep.json',
        ),
      ),
      (e: unknown) =>
        e instanceof PipelineError &&
        /^the sweep has 20,000 combinations \(100 × 100 × 2\), over maxCombinations 10,000/.test(
          e.problems[0]?.message ?? '',
        ),
    );
    await assert.rejects(
      loadSweep(
        sweepFile(
          { pipeline: 'base.pipeline.json', grid: { '/seed': [1, 2, 3] }, maxCombinations: 2 },
          'small.sweep.json',
        ),
      ),
      /3 combinations/,
    );
    const plan = await loadSweep(
      sweepFile(
        { pipeline: 'base.pipeline.json', grid: { '/seed': [1, 2, 3] }, maxCombinations: 3 },
        'fits.sweep.json',
      ),
    );
    assert.equal(plan.combinations.length, 3);
  });

  it('names a base pipeline that is not JSON without quoting it', async () => {
    writeFileSync(join(work, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    await assert.rejects(
      loadSweep(sweepFile({ pipeline: 'secret.txt', grid: { '/seed': [1] } }, 'secret.sweep.json')),
      (e: unknown) =>
        e instanceof PipelineError &&
        /^\S+secret\.txt is not a valid pipeline file: invalid JSON at line 1, column 1: unexpected character$/.test(
          e.problems[0]?.message ?? '',
        ) &&
        !/root/.test(e.problems[0]?.message.replace(/^\S+secret\.txt/, '') ?? 'root'),
    );
  });
});
