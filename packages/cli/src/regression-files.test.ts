import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { corePlugin, preparePipeline, Rng, runPipeline, type RunSummary } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, 'main.js');
const npyFixtures = join(here, '..', '..', 'datasets', 'fixtures', 'npy');

/** 400 seeded rows `a, b, y` with y = 2a - b + 0.5 (a, b uniform in [-1, 1]): a linear target. */
function linearRows(): { a: number; b: number; y: number }[] {
  const rng = new Rng(11);
  return Array.from({ length: 400 }, () => {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    return { a, b, y: 2 * a - b + 0.5 };
  });
}

/** A pipeline training `data` (task "regression") for a few epochs on a small dense model. */
function pipeline(data: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'regression-files',
    task: 'regression',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    strategy: { kind: 'naive' },
    data,
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.02 },
    training: { epochs: 15, batchSize: 20, loss: 'mae' },
    evaluation: { on: 'all', initial: true },
    checkpoint: { enabled: false },
  };
}

async function run(doc: Record<string, unknown>, dir: string): Promise<RunSummary> {
  const loaded = await preparePipeline(doc, join(dir, 'pipeline.json'), {
    resolveFrom: [here],
    builtins: [corePlugin],
  });
  return (await runPipeline(loaded, { outDir: join(dir, 'out') })).summary;
}

/** The MAE of every experience after the last one trained. */
function finalMae(s: RunSummary): number[] {
  const m = s.errors?.maeMatrix;
  assert.ok(m, 'summary.errors.maeMatrix');
  return (m[m.length - 1] ?? []).map((v) => v ?? NaN);
}

test('a csv with a target column and a jsonl with a target field train a linear target to a tenth of the untrained error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-files-'));
  const before = tf.memory().numTensors;
  try {
    const rows = linearRows();
    writeFileSync(join(dir, 'd.csv'), ['a,b,y', ...rows.map((r) => `${r.a},${r.b},${r.y}`)].join('\n') + '\n');
    writeFileSync(join(dir, 'd.jsonl'), rows.map((r) => JSON.stringify({ x: [r.a, r.b], value: r.y })).join('\n'));
    const scenario = { type: 'data-incremental', experiences: 2, order: 'file' };
    const csv = await run(pipeline({ kind: 'csv', path: 'd.csv', targetColumns: ['y'], scenario }), dir);
    const jsonl = await run(pipeline({ kind: 'jsonl', path: 'd.jsonl', targetField: 'value', scenario }), dir);
    for (const s of [csv, jsonl]) {
      const initial = s.errors?.initialMae ?? [];
      t.diagnostic(
        `MAE untrained ${initial.map((v) => v?.toFixed(3)).join(', ')} → trained ${finalMae(s)
          .map((v) => v.toFixed(3))
          .join(', ')}`,
      );
      assert.equal(initial.length, 2);
      // an untrained model is off by about the target's spread (mean |y - 0| ≈ 1.1); a trained one by far less
      for (const [j, mae] of finalMae(s).entries()) {
        assert.ok(mae < 0.1 * (initial[j] ?? 0), `experience ${j}: MAE ${mae} vs untrained ${initial[j]}`);
        assert.ok(mae < 0.15, `experience ${j}: MAE ${mae}`);
      }
      assert.equal(s.averageAccuracy, null);
    }
    // the same rows, features and targets: the two formats train the same numbers
    assert.deepEqual(finalMae(csv), finalMae(jsonl));
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an npz with float y of shape [n, 2] trains two outputs whose MAE falls below a fifth of the untrained one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-npz-'));
  try {
    const doc = pipeline({
      kind: 'npy',
      npz: join(npyFixtures, 'regression2.npz'),
      scenario: { type: 'data-incremental', experiences: 1 },
    });
    const s = await run({ ...doc, training: { epochs: 40, batchSize: 8, loss: 'mse' } }, dir);
    const initial = s.errors?.initialMae?.[0] ?? NaN;
    const [mae = NaN] = finalMae(s);
    t.diagnostic(`MAE untrained ${initial.toFixed(3)} → trained ${mae.toFixed(3)}`);
    assert.ok(mae < 0.2 * initial, `MAE ${mae} vs untrained ${initial}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engram validate exits 2 at /data/scenario for target columns cut by class, and at /task for a classification pipeline over targets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-validate-'));
  try {
    writeFileSync(join(dir, 'd.csv'), 'a,b,y\n1,2,3\n4,5,6\n');
    const file = join(dir, 'p.json');
    const byClass = { type: 'class-incremental', experiences: 2 };
    writeFileSync(
      file,
      JSON.stringify(pipeline({ kind: 'csv', path: 'd.csv', targetColumns: ['y'], scenario: byClass })),
    );
    const r = spawnSync(process.execPath, [main, 'validate', file], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /\/data\/scenario: scenario "class-incremental" cuts the data by class, but targetColumns makes a regression source/,
    );
    // streamed in file order ("sequential", the default) they are a regression stream: valid
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'csv', path: 'd.csv', targetColumns: ['y'] })));
    const streamed = spawnSync(process.execPath, [main, 'validate', file], { encoding: 'utf8' });
    assert.equal(streamed.status, 0, streamed.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const classify = {
      ...pipeline({
        kind: 'csv',
        path: 'd.csv',
        targetColumns: ['y'],
        scenario: { type: 'data-incremental', experiences: 1 },
      }),
    };
    delete classify.task;
    classify.training = { epochs: 1 };
    writeFileSync(file, JSON.stringify(classify));
    const c = spawnSync(process.execPath, [main, 'run', file, '--out', join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(c.status, 2, c.stderr);
    assert.match(c.stderr, /\/task: the data source yields regression targets: set "task": "regression"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a regression pipeline over a live source without targetField is refused at /task, naming the way in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-stream-'));
  try {
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'jsonl-stdin', inputShape: [2], numClasses: 1 })));
    const r = spawnSync(process.execPath, [main, 'run', file, '--out', join(dir, 'out')], {
      encoding: 'utf8',
      input: '',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /\/task: task "regression" needs a data source with regression targets .*a live source with targetField\); this one yields classes/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the accuracy-based promotion gates are refused for a regression run at their pointers (validate, exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-gates-'));
  try {
    const file = join(dir, 'p.json');
    const data = { kind: 'jsonl-stdin', inputShape: [2], targetField: 'y' };
    const serve = { promote: { maxForgetting: 5, feedback: { tolerance: 2 } } };
    writeFileSync(file, JSON.stringify({ ...pipeline(data), serve }));
    const r = spawnSync(process.execPath, [main, 'validate', file], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\/serve\/promote\/maxForgetting: the maxForgetting promotion gate compares accuracies/);
    assert.match(r.stderr, /\/serve\/promote\/feedback: the feedback promotion gate compares accuracies/);
    // the finite check alone is fine
    writeFileSync(file, JSON.stringify({ ...pipeline(data), serve: { promote: { finite: true } } }));
    const ok = spawnSync(process.execPath, [main, 'validate', file], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
