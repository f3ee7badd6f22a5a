import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@engram/core';
import { deterministicSummary, finalDigest, MAIN, runEngram } from './e2e-harness.js';

/**
 * A regression run over a CSV with a target column whose function drifts with the row order: three
 * chunks in file order, replay (its buffer is checkpointed state), a checkpoint every 3 batches.
 */
const PIPELINE = {
  name: 'regression-resume',
  task: 'regression',
  seed: 21,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: {
    kind: 'csv',
    path: 'drift.csv',
    targetColumns: ['y'],
    scenario: { type: 'data-incremental', experiences: 3, order: 'file' },
  },
  model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  strategy: { kind: 'replay', bufferSize: 40 },
  training: { epochs: 3, batchSize: 16, loss: 'huber' },
  evaluation: { on: 'all', initial: true },
  checkpoint: { everyBatches: 3, keep: 2 },
};

/** 360 seeded rows `a, b, y`: y = 2a − b in the first third, −a + 3b in the second, a + b + 1 in the last. */
function driftCsv(): string {
  const rng = new Rng(4);
  const lines = ['a,b,y'];
  for (let r = 0; r < 360; r++) {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    const y = r < 120 ? 2 * a - b : r < 240 ? -a + 3 * b : a + b + 1;
    lines.push(`${a},${b},${y}`);
  }
  return `${lines.join('\n')}\n`;
}

interface EpochEnd {
  experience: number;
  epoch: number;
  loss: number;
  accuracy: number;
  mae?: number;
}

/** The last epoch-end event of every (experience, epoch) in metrics.jsonl, without seq and time. */
function epochEnds(dir: string): EpochEnd[] {
  const byKey = new Map<string, EpochEnd>();
  for (const line of readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.startsWith('{"type":"epoch-end"')) continue;
    const { seq: _seq, time: _time, ...e } = JSON.parse(line) as EpochEnd & { seq: number; time: number };
    byKey.set(`${e.experience}:${e.epoch}`, e);
  }
  return [...byKey.values()].sort((a, b) => a.experience - b.experience || a.epoch - b.epoch);
}

function engram(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
}

describe('a regression run across a SIGKILL', () => {
  it('resumes bit-identical, and its progress lines, eval and compare speak MAE, never accuracy', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-regression-resume-'));
    try {
      const file = join(work, 'p.pipeline.json');
      writeFileSync(join(work, 'drift.csv'), driftCsv());
      writeFileSync(file, JSON.stringify(PIPELINE));
      const ref = join(work, 'ref');
      const done = await runEngram(file, ref, []);
      assert.equal(done.code, 0, done.stderr);
      const reference = epochEnds(ref);
      assert.equal(reference.length, 9);
      // every epoch reports its running training MAE; it falls over the first experience (later ones mix in replayed rows)
      for (const e of reference) assert.ok(typeof e.mae === 'number' && e.mae > 0, JSON.stringify(e));
      const [start, , end] = reference.filter((e) => e.experience === 0);
      assert.ok((end?.mae ?? NaN) < (start?.mae ?? NaN), `experience 0: ${start?.mae} → ${end?.mae}`);

      const out = join(work, 'killed');
      const kills = [
        (l: string) => l.startsWith('{"type":"checkpoint"') && l.includes('"step":6,'), // inside experience 0
        (l: string) => l.startsWith('{"type":"batch-end"') && l.includes('"experience":1,') && l.includes('"epoch":1,'),
      ];
      let first = true;
      for (const killWhen of kills) {
        const r = await runEngram(file, out, first ? [] : ['--resume'], { killWhen, signal: 'SIGKILL' });
        assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
        first = false;
      }
      const last = await runEngram(file, out, ['--resume']);
      assert.equal(last.code, 0, last.stderr);
      assert.deepEqual(epochEnds(out), reference);
      assert.deepEqual(deterministicSummary(out), deterministicSummary(ref));
      assert.deepEqual(finalDigest(out), finalDigest(ref));

      // engram eval on the final checkpoint: the summary's last MAE row, in target units
      const summary = JSON.parse(readFileSync(join(ref, 'summary.json'), 'utf8')) as {
        errors: { maeMatrix: number[][]; averageMae: number };
      };
      const finalRow = summary.errors.maeMatrix[2] ?? [];
      const evaluated = engram(['eval', file, '--checkpoint', join(ref, 'checkpoints'), '--json']);
      assert.equal(evaluated.status, 0, evaluated.stderr);
      const json = JSON.parse(evaluated.stdout) as {
        averageMae: number;
        results: { mae: number; accuracy?: number }[];
      };
      json.results.forEach((r, j) =>
        assert.ok(Math.abs(r.mae - (finalRow[j] ?? NaN)) < 1e-6, `${r.mae} vs ${finalRow[j]}`),
      );
      assert.equal(json.results[0]?.accuracy, undefined);
      const text = engram(['eval', file, '--checkpoint', join(ref, 'checkpoints')]);
      assert.match(text.stdout, /experience 2: MAE \d+\.\d{4} {2}RMSE \d+\.\d{4} {2}loss/);
      assert.match(text.stdout, /average MAE \d+\.\d{4}/);
      assert.doesNotMatch(text.stdout, /accuracy/);

      // engram compare: MAE, RMSE and MAE forgetting columns, identical for the two runs
      const compared = engram(['compare', ref, out]);
      assert.equal(compared.status, 0, compared.stderr);
      const [header = '', , ...rows] = compared.stdout.trim().split('\n');
      assert.match(header, /MAE +RMSE +MAE forgetting/);
      assert.doesNotMatch(header, /ACC/);
      assert.equal(rows.length, 2);
      const mae = summary.errors.averageMae.toFixed(4);
      for (const row of rows) assert.ok(row.includes(mae), `${row} shows MAE ${mae}`);

      // the progress lines of a plain (non-TTY) run: a running MAE per experience, no accuracy
      const plain = engram(['run', file, '--out', join(work, 'plain')]);
      assert.equal(plain.status, 0, plain.stderr);
      assert.match(plain.stdout, /exp 2 of 3 epoch 3\/3 loss \d+\.\d{4} mae \d+\.\d{4}/);
      assert.match(plain.stdout, /after exp 2 — test MAE per experience \(target units\)/);
      assert.doesNotMatch(plain.stdout, / acc /);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
