import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { corePlugin, PipelineError, preparePipeline, runPipeline, type RunSummary } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const main = join(here, 'main.js');

/** A two-regime drifting regression pipeline (seconds to train) with `strategy`. */
function pipeline(strategy: Record<string, unknown> | Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return {
    name: 'regression-test',
    task: 'regression',
    seed: 5,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'drifting-regression', features: 2, targets: 2, experiences: 2, samplesPerExperience: 250, shift: 3 },
    model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy,
    training: { epochs: 8, batchSize: 25 },
    evaluation: { on: 'all', initial: true },
    checkpoint: { enabled: false },
    ...extra,
  };
}

async function run(doc: Record<string, unknown>): Promise<RunSummary> {
  const out = mkdtempSync(join(tmpdir(), 'engram-regression-'));
  try {
    const loaded = await preparePipeline(doc, join(root, 'regression.pipeline.json'), {
      resolveFrom: [here],
      builtins: [corePlugin],
    });
    return (await runPipeline(loaded, { outDir: out })).summary;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** MAE on regime 0 after training regime 1 (the old regime's error). */
function oldError(s: RunSummary): number {
  return s.errors?.maeMatrix[1]?.[0] ?? NaN;
}

test('a regression run reports MAE and RMSE matrices, learns each regime and forgets the first without help', async () => {
  const s = await run(pipeline({ kind: 'naive' }));
  const e = s.errors;
  assert.ok(e, 'summary.errors');
  assert.equal(s.averageAccuracy, null);
  assert.equal(e.maeMatrix.length, 2);
  assert.equal(e.initialMae?.length, 2);
  // each regime is learned: its error right after training is well below the untrained model's
  for (const j of [0, 1]) assert.ok((e.maeMatrix[j]?.[j] ?? NaN) < 0.5 * (e.initialMae?.[j] ?? 0), JSON.stringify(e));
  // RMSE ≥ MAE entry by entry (Jensen), both in target units
  e.maeMatrix.forEach((row, i) => row.forEach((v, j) => assert.ok((e.rmseMatrix[i]?.[j] ?? NaN) >= (v ?? NaN) - 1e-9)));
  // the concept shift makes naive forget: the old regime's error grows by more than its learned error
  const forgot = oldError(s) - (e.maeMatrix[0]?.[0] ?? NaN);
  assert.ok(forgot > e.maeMatrix[0]![0]!, `old ${oldError(s)} after learning ${e.maeMatrix[0]?.[0]}`);
  assert.ok(Math.abs((e.forgetting ?? NaN) - forgot) < 1e-12, 'forgetting is the error increase');
  assert.ok(Math.abs((e.averageMae ?? NaN) - (e.maeMatrix[1]![0]! + e.maeMatrix[1]![1]!) / 2) < 1e-12);
});

test('EWC, online EWC, SI, MAS, replay, DER++ and A-GEM train a regression run and keep the old regime at under half the error of naive', async () => {
  const before = tf.memory().numTensors;
  const naive = oldError(await run(pipeline({ kind: 'naive' })));
  const strategies: Record<string, Record<string, unknown>> = {
    ewc: { kind: 'ewc', lambda: 1000 },
    'online-ewc': { kind: 'online-ewc', lambda: 1000 },
    si: { kind: 'si', c: 10 },
    mas: { kind: 'mas', lambda: 10 },
    replay: { kind: 'replay', bufferSize: 100 },
    derpp: { kind: 'derpp', bufferSize: 100 },
    agem: { kind: 'agem', bufferSize: 100 },
  };
  const found: Record<string, number> = {};
  for (const [name, strategy] of Object.entries(strategies)) {
    const s = await run(pipeline(strategy));
    found[name] = oldError(s);
    // the new regime is still learned
    assert.ok(
      (s.errors?.maeMatrix[1]?.[1] ?? NaN) < 0.5 * (s.errors?.initialMae?.[1] ?? 0),
      `${name} did not learn regime 1`,
    );
  }
  for (const [name, old] of Object.entries(found))
    assert.ok(old < 0.5 * naive, `${name}: old-regime MAE ${old} vs naive ${naive} (${JSON.stringify(found)})`);
  assert.equal(tf.memory().numTensors, before);
});

test('class-only strategies and adjustments are refused at their pointer for task "regression"', async () => {
  const doc = pipeline([{ kind: 'ewc' }, { kind: 'lwf' }, { kind: 'icarl' }, { kind: 'gdumb' }, { kind: 'er-ace' }], {
    adjust: [{ kind: 'multi-head' }, { kind: 'grow-head' }],
  });
  const error = await preparePipeline(doc, join(root, 'x.pipeline.json'), {
    resolveFrom: [here],
    builtins: [corePlugin],
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof PipelineError, String(error));
  assert.deepEqual(
    error.problems.map((p) => p.path),
    ['/adjust/0', '/adjust/1', '/strategy/1', '/strategy/2', '/strategy/3', '/strategy/4'],
  );
  assert.match(error.problems[0]?.message ?? '', /multi-head" needs classes/);
});

test('engram validate and run exit 2 at the pointer of a class-only strategy or a wrong loss, without a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-cli-'));
  try {
    const lwf = join(dir, 'lwf.pipeline.json');
    writeFileSync(lwf, JSON.stringify(pipeline({ kind: 'lwf' })));
    const loss = join(dir, 'loss.pipeline.json');
    writeFileSync(
      loss,
      JSON.stringify({ ...pipeline({ kind: 'naive' }), task: undefined, training: { loss: 'huber' } }),
    );
    for (const [args, path] of [
      [['validate', lwf], '/strategy'],
      [['run', lwf, '--out', join(dir, 'out')], '/strategy'],
      [['validate', loss], '/training/loss'],
    ] as const) {
      const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^  ${path}: `, 'm'), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
