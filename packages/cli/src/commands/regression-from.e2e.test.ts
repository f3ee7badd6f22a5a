import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core';
import { finalDigest, MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

interface Summary {
  steps: number;
  accuracyMatrix: (number | null)[][];
  errors: { maeMatrix: (number | null)[][]; rmseMatrix: (number | null)[][]; averageMae: number | null };
}

const summary = (dir: string): Summary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;

/** 450 seeded rows `a, b, c, y` in three regimes of 150 rows, each with its own linear target. */
function regimesCsv(): string {
  const rng = new Rng(8);
  const lines = ['a,b,c,y'];
  for (let r = 0; r < 450; r++) {
    const [a, b, c] = [rng.next() * 2 - 1, rng.next() * 2 - 1, rng.next() * 2 - 1];
    const y = r < 150 ? 2 * a - b + 0.5 * c : r < 300 ? -a + 2 * c + 1 : a + b - c - 1;
    lines.push(`${a},${b},${c},${y}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A regression pipeline over the three regimes in file order; `only` picks the experiences it trains. */
function pipeline(name: string, only?: Record<string, number>): Record<string, unknown> {
  return {
    name,
    task: 'regression',
    seed: 6,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'csv',
      path: 'regimes.csv',
      targetColumns: ['y'],
      testFraction: 0.2,
      scenario: { type: 'data-incremental', experiences: 3, order: 'file', ...(only ? { only } : {}) },
    },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: [
      { kind: 'replay', bufferSize: 40 },
      { kind: 'ewc', lambda: 50 },
    ],
    training: { epochs: 6, batchSize: 16, loss: 'huber' },
    evaluation: { on: 'all', initial: false },
    checkpoint: { enabled: true },
  };
}

function engram(dir: string, doc: Record<string, unknown>, extra: readonly string[] = []): string {
  const name = doc['name'] as string;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const out = join(dir, name);
  const r = spawnSync(process.execPath, [MAIN, 'run', file, '--out', out, '--quiet', ...extra], {
    encoding: 'utf8',
    timeout: patience(240_000),
  });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

test(
  'a regression run continued --from yesterday’s run ends with one longer run’s MAE and RMSE matrices and weights, ' +
    'bit for bit',
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-regression-from-'));
    try {
      writeFileSync(join(dir, 'regimes.csv'), regimesCsv());
      const day1 = engram(dir, pipeline('day1', { first: 0, last: 1 }));
      const day2 = engram(dir, pipeline('day2', { first: 2 }), ['--from', day1]);
      const one = engram(dir, pipeline('one'));
      const split = summary(day2);
      const whole = summary(one);
      t.diagnostic(`MAE matrix ${JSON.stringify(whole.errors.maeMatrix)}`);
      assert.equal(split.errors.maeMatrix.length, 3);
      assert.ok(split.errors.maeMatrix.every((row) => row.length === 3 && row.every((v) => typeof v === 'number')));
      assert.deepEqual(split.errors.maeMatrix, whole.errors.maeMatrix);
      assert.deepEqual(split.errors.rmseMatrix, whole.errors.rmseMatrix);
      assert.equal(split.errors.averageMae, whole.errors.averageMae);
      assert.equal(split.steps, whole.steps);
      assert.equal(finalDigest(day2).weights, finalDigest(one).weights);
      assert.equal(finalDigest(day2).state, finalDigest(one).state, 'replay memory, EWC and optimizer state too');
      // yesterday's run knew all three test sets (its `only` leaves the last evaluate-only) and trained on two
      assert.deepEqual(summary(day1).errors.maeMatrix, whole.errors.maeMatrix.slice(0, 2));
      // each later regime is learnt: training on it lowers its error from what the model had before
      const M = whole.errors.maeMatrix;
      for (let i = 1; i < 3; i++)
        assert.ok((M[i]?.[i] ?? NaN) < (M[i - 1]?.[i] ?? NaN), `regime ${i}: ${M[i - 1]?.[i]} → ${M[i]?.[i]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
