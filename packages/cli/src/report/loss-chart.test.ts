import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngramEvent } from '@engram/core';
import { patience } from '../testing/patience.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';
import { accuracyOverTimeSpec, lossSpec } from './chart-specs.js';
import { MinMaxSeries } from './min-max-series.js';
import { loadRun } from './run-data.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/**
 * 3 experiences of 2 classes, 30 training samples per class: 60 per experience, batches of 16 →
 * 4 steps per epoch, 2 epochs → 8 steps per experience. Experiences start at steps 1, 9 and 17 (the
 * step of their first batch); with logEvery 3 (set on the command line) the first *logged* batch of
 * each is the 3rd, so a chart that took its marks from logged batches would put them at 3, 11, 19.
 */
test('the loss chart shows every logged batch and marks each experience at the step of its first batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-loss-'));
  try {
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(syntheticPipeline({ name: 'loss-marks', seed: 5, data: { numClasses: 6 } })));
    const out = join(dir, 'out');
    const proc = spawnSync(
      process.execPath,
      [main, 'run', file, '--out', out, '--quiet', '--set', 'training.logEvery=3', '--set', '/training/epochs=2'],
      { encoding: 'utf8', timeout: patience(120_000) },
    );
    assert.equal(proc.status, 0, proc.stderr);
    const events = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EngramEvent);
    const batches = events.filter((e): e is Extract<EngramEvent, { type: 'batch-end' }> => e.type === 'batch-end');
    // every 3rd batch of an epoch and its last (4th): 2 per epoch, 2 epochs, 3 experiences
    assert.deepEqual(
      batches.map((b) => b.step),
      [3, 4, 7, 8, 11, 12, 15, 16, 19, 20, 23, 24],
    );
    const run = await loadRun(out);
    {
      assert.deepEqual(
        run.loss.map((p) => p.x),
        batches.map((b) => b.step),
        'one point per logged batch',
      );
      assert.deepEqual(
        run.loss.map((p) => p.y),
        batches.map((b) => b.loss),
      );
      assert.deepEqual(run.experienceStarts, [
        { experience: 0, step: 1 },
        { experience: 1, step: 9 },
        { experience: 2, step: 17 },
      ]);
      const spec = JSON.stringify(lossSpec(run));
      assert.match(spec, /"x":9,"label":"experience 1 starts/);
      assert.match(spec, /"x":17,"label":"experience 2 starts/);
      // Accuracy over time: an experience's line starts when it is trained (no points of untrained experiences at 0).
      const over = accuracyOverTimeSpec(run.accuracy) as {
        data: { values: { afterExperience: number; experience: string }[] };
      };
      assert.ok(
        run.accuracy.some((p) => p.afterExperience < p.experience),
        'the run did evaluate untrained experiences',
      );
      assert.ok(over.data.values.length > 0);
      for (const p of over.data.values)
        assert.ok(p.afterExperience >= Number(p.experience.split(' ')[1]), JSON.stringify(p));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a long loss series keeps every point up to 2 × maxBuckets, then each bucket’s min and max', () => {
  const short = new MinMaxSeries(100);
  for (let i = 1; i <= 150; i++) short.add(i, Math.sin(i));
  assert.deepEqual(
    short.series(),
    Array.from({ length: 150 }, (_, k) => ({ x: k + 1, y: Math.sin(k + 1) })),
  );
  const long = new MinMaxSeries(100);
  for (let i = 1; i <= 10_000; i++) long.add(i, i === 4321 ? 50 : i === 8765 ? -3 : 1 + (i % 7) / 10);
  const s = long.series();
  assert.ok(s.length <= 400, `${s.length} points`);
  assert.ok(s.length >= 200, `${s.length} points`);
  assert.deepEqual(
    s.find((p) => p.y === 50),
    { x: 4321, y: 50 },
    'a one-batch spike survives',
  );
  assert.deepEqual(
    s.find((p) => p.y === -3),
    { x: 8765, y: -3 },
    'a one-batch dip survives',
  );
  for (let k = 1; k < s.length; k++) assert.ok((s[k]?.x ?? 0) > (s[k - 1]?.x ?? 0), 'x increases');
});
