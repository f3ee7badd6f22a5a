import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFiles, Rng } from '@engram/core';
import { deterministicSummary, finalDigest, MAIN, runEngram } from './e2e-harness.js';
import { renderReport } from '../report/render-report.js';
import { figure, kpiCards, rows } from '../report/testing/report-page.js';
import { patience } from '../testing/patience.js';

/** Records of the stream before its concept shift. */
const SHIFT = 800;

/** `n` seeded JSON lines `{"x":[a,b],"y":target}`: y = 2a − b before {@link SHIFT}, −a + 3b + 1 after. */
function linearFeed(n: number): string {
  const rng = new Rng(11);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    const y = i < SHIFT ? 2 * a - b : -a + 3 * b + 1;
    lines.push(JSON.stringify({ x: [a, b], y }));
  }
  return `${lines.join('\n')}\n`;
}

/** A stream regression pipeline over `data`: a small MLP, adam, replay, the prequential window 80 samples. */
function pipeline(data: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'stream-regression',
    task: 'regression',
    seed: 4,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { inputShape: [2], targetField: 'y', buffer: 32, ...data },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: { kind: 'replay', bufferSize: 64 },
    training: { batchSize: 8, logEvery: 5 },
    evaluation: { window: 80 },
    ...extra,
  };
}

interface Prequential {
  step: number;
  samples: number;
  accuracy: number;
  windowMae: number;
  mae: number;
  rmse: number;
}

const events = (dir: string): { type: string }[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });

test(
  'a stdin stream of a linear target is scored by prequential MAE: it falls after the first records, rises at ' +
    'the concept shift, and the csv and tensorboard loggers and the report carry it',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-stream-regression-'));
    try {
      const file = join(dir, 'p.json');
      const loggers = [{ kind: 'csv' }, { kind: 'tensorboard' }];
      writeFileSync(
        file,
        JSON.stringify(pipeline({ kind: 'jsonl-stdin' }, { loggers, checkpoint: { enabled: false } })),
      );
      const out = join(dir, 'out');
      const r = spawnSync(process.execPath, [MAIN, 'run', file, '--out', out, '--quiet'], {
        input: linearFeed(1600),
        encoding: 'utf8',
        timeout: patience(120_000),
      });
      assert.equal(r.status, 0, r.stderr);
      const pre = events(out).filter((e): e is Prequential & { type: string } => e.type === 'prequential');
      const at = (samples: number): Prequential => {
        const found = [...pre].reverse().find((p) => p.samples <= samples);
        assert.ok(found, `a prequential event at or before ${samples} samples`);
        return found;
      };
      const start = at(80);
      const settled = at(SHIFT);
      const shifted = Math.max(
        ...pre.filter((p) => p.samples > SHIFT && p.samples <= SHIFT + 120).map((p) => p.windowMae),
      );
      const end = at(1600);
      t.diagnostic(
        `window MAE ${start.windowMae.toFixed(3)} (80 samples) → ${settled.windowMae.toFixed(3)} (${SHIFT}) → ` +
          `${shifted.toFixed(3)} (peak after the shift) → ${end.windowMae.toFixed(3)} (1600)`,
      );
      assert.ok(
        settled.windowMae < 0.5 * start.windowMae,
        'prequential MAE falls as the model learns the first regime',
      );
      assert.ok(shifted > 2 * settled.windowMae, 'prequential MAE rises at the concept shift');
      assert.ok(end.windowMae < 0.5 * shifted, 'and falls again as the model learns the second regime');
      for (const p of pre) {
        assert.equal(p.accuracy, 0, 'a regression stream has no accuracy');
        assert.ok(p.rmse >= p.mae && p.mae > 0, `RMSE ${p.rmse} ≥ MAE ${p.mae}`);
      }

      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        prequential: { samples: number; mae: number; windowMae: number; fadingMae: number; rmse: number };
      };
      assert.equal(summary.prequential.samples, 1600);
      const last = pre[pre.length - 1];
      assert.equal(summary.prequential.mae, last?.mae);
      assert.equal(summary.prequential.windowMae, last?.windowMae);

      // the csv logger: one prequential row per event, MAE in its own column
      const [header = '', ...csvRows] = readFileSync(join(out, 'csv', 'prequential.csv'), 'utf8')
        .trim()
        .split('\n');
      const columns = header.split(',');
      assert.equal(csvRows.length, pre.length);
      const maeColumn = columns.indexOf('mae');
      const windowColumn = columns.indexOf('windowMae');
      csvRows.forEach((row, i) => {
        const cells = row.split(',');
        assert.equal(Number(cells[maeColumn]), pre[i]?.mae);
        assert.equal(Number(cells[windowColumn]), pre[i]?.windowMae);
      });
      const batchHeader = readFileSync(join(out, 'csv', 'batch-end.csv'), 'utf8').split('\n')[0] ?? '';
      assert.ok(batchHeader.split(',').includes('epochMae'), batchHeader);

      // tensorboard: prequential/mae and window_mae at each event's step, no accuracy scalars
      const scalars = new Map<string, number>();
      for (const e of readEventFiles(join(out, 'tensorboard')))
        for (const v of e.summary?.value ?? []) scalars.set(`${v.tag}@${e.step}`, v.simpleValue ?? NaN);
      for (const p of pre) {
        assert.equal(scalars.get(`prequential/mae@${p.step}`), Math.fround(p.mae));
        assert.equal(scalars.get(`prequential/window_mae@${p.step}`), Math.fround(p.windowMae));
      }
      assert.ok(![...scalars.keys()].some((k) => k.startsWith('prequential/accuracy')));
      // and the running training MAE of every logged batch where a classification run's accuracy goes
      const batches = events(out).filter(
        (e): e is { type: string; step: number; epochMae: number } => e.type === 'batch-end',
      );
      assert.ok(batches.length > 0 && batches.every((b) => typeof b.epochMae === 'number'));
      for (const b of batches) assert.equal(scalars.get(`train/epoch_mae@${b.step}`), Math.fround(b.epochMae));
      assert.ok(![...scalars.keys()].some((k) => k.startsWith('train/accuracy')));

      // the report: prequential MAE key figures and curves in target units (not percent)
      const html = readFileSync(await renderReport(out), 'utf8');
      const cards = kpiCards(html);
      assert.equal(cards.get('prequential MAE'), summary.prequential.mae.toFixed(4));
      assert.equal(cards.has('prequential acc.'), false);
      const curve = rows(figure(html, 'prequential')).filter((row) => row['series'] === 'cumulative');
      const maes = new Set(pre.map((p) => p.mae));
      assert.ok(curve.length > 0 && curve.every((row) => maes.has(row['accuracy'] as number)));
      assert.equal(Math.max(...curve.map((row) => row['accuracy'] as number)), Math.max(...maes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a jsonl-follow regression stream killed mid-way resumes bit-identical: same prequential MAE, summary and weights', async () => {
  const work = mkdtempSync(join(tmpdir(), 'engram-stream-regression-resume-'));
  try {
    writeFileSync(join(work, 'feed.jsonl'), linearFeed(1600));
    const file = join(work, 'p.json');
    // 1,400 of the 1,600 lines: the run ends before the follower waits at the end of the file
    const data = { kind: 'jsonl-follow', path: 'feed.jsonl', pollMs: 20 };
    const extra = {
      training: { batchSize: 8, logEvery: 5, maxSamples: 1400 },
      checkpoint: { everyBatches: 20, keep: 3 },
    };
    writeFileSync(file, JSON.stringify(pipeline(data, extra)));
    const ref = join(work, 'ref');
    const reference = await runEngram(file, ref, []);
    assert.equal(reference.code, 0, reference.stderr);
    const out = join(work, 'killed');
    const when = (type: string, minStep: number) => (line: string) => {
      if (!line.startsWith('{')) return false;
      const e = JSON.parse(line) as { type: string; step?: number };
      return e.type === type && (e.step ?? -1) >= minStep;
    };
    // right after a checkpoint inside the first regime; between two checkpoints after the shift
    const kills = [when('checkpoint', 40), when('prequential', 125)];
    let first = true;
    for (const killWhen of kills) {
      const r = await runEngram(file, out, first ? [] : ['--resume'], { killWhen, signal: 'SIGKILL' });
      assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
      first = false;
    }
    const last = await runEngram(file, out, ['--resume']);
    assert.equal(last.code, 0, last.stderr);
    assert.ok((last.firstCheckpointStep ?? Infinity) > 20, 'the last run resumed instead of starting over');
    const summary = deterministicSummary(out);
    assert.deepEqual(summary, deterministicSummary(ref));
    assert.deepEqual(finalDigest(out), finalDigest(ref));
    const p = summary['prequential'] as { samples: number; mae: number; rmse: number };
    assert.equal(p.samples, 1400);
    assert.ok(p.mae > 0 && p.rmse >= p.mae, JSON.stringify(p));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
