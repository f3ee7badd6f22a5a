import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { Rng, type Batch } from '@engram/core';
import { DriftingRegressionSource, type DriftingRegressionOptions } from '@engram/datasets';
import { postJson, startServedRun, testPipeline } from './testing/served-run.js';

const data: DriftingRegressionOptions = {
  features: 3,
  targets: 2,
  experiences: 2,
  samplesPerExperience: 200,
  testFraction: 0.2,
  shift: 3,
  noise: 0.1,
};

test("a regression run's /predict answers each instance's values, and their error on a test set is the run's MAE", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-regression-'));
  const doc = testPipeline('serve-regression', {
    task: 'regression',
    data: { kind: 'drifting-regression', ...data },
    training: { epochs: 4, batchSize: 16 },
  });
  const run = await startServedRun(doc, dir);
  try {
    const { summary } = await run.outcome;
    await run.served.settled();
    // the same rows the run tested the last regime on (the source is a pure function of seed and pointer)
    const source = new DriftingRegressionSource(data, { rng: new Rng(7).derive('/data') });
    const last = (await lastValueFrom(source.experiences().pipe(toArray())))[1];
    const rows: Batch[] = [];
    for await (const b of last?.test?.batches({ batchSize: 64, shuffle: false, epoch: 0, seed: 0 }) ?? []) rows.push(b);
    const instances: number[][] = [];
    const targets: number[] = [];
    for (const b of rows)
      for (let i = 0; i < b.y.length; i++) {
        instances.push(Array.from(b.x.subarray(i * 3, i * 3 + 3)));
        targets.push(...Array.from(b.targetValues?.subarray(i * 2, i * 2 + 2) ?? []));
      }
    assert.equal(instances.length, 40);
    const p = await postJson(`${run.base}/predict`, { instances });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    const predictions = p.body.predictions as { id: string; values: number[]; label?: number }[];
    assert.equal(predictions.length, 40);
    assert.ok(predictions.every((q) => q.values.length === 2 && q.label === undefined));
    const values = predictions.flatMap((q) => q.values);
    const mae = values.reduce((s, v, i) => s + Math.abs(v - (targets[i] ?? NaN)), 0) / values.length;
    const expected = summary.errors?.maeMatrix[1]?.[1] ?? NaN;
    assert.ok(Math.abs(mae - expected) < 1e-5, `served MAE ${mae}, evaluated ${expected}`);
    assert.ok(expected < (summary.errors?.initialMae?.[1] ?? 0) / 2, 'the served model learned the regime');
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
