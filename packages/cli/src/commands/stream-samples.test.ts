import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type RunOutcome } from '@engram/core';
import { loadPipelineFile } from '../cli-context.js';

/** A drifting synthetic stream trained with replay, a boundary every 96 records, ended by `maxSamples`. */
async function run(maxSamples: number, stopAtStep?: number): Promise<RunOutcome> {
  const work = mkdtempSync(join(tmpdir(), 'engram-stream-samples-'));
  const file = join(work, 'p.pipeline.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'stream-samples',
      seed: 4,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'synthetic', endless: true, numClasses: 3, features: 4, buffer: 64, policy: 'block' },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      strategy: [{ kind: 'replay', bufferSize: 40 }],
      boundary: { kind: 'every-n', samples: 96 },
      training: { batchSize: 8, maxSamples, logEvery: 5 },
      checkpoint: { enabled: false },
    }),
  );
  const controller = new AbortController();
  return runPipeline(await loadPipelineFile(file), {
    outDir: join(work, 'out'),
    signal: controller.signal,
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAtStep !== undefined && e.type === 'batch-end' && e.step >= stopAtStep) controller.abort('SIGTERM');
      }),
  });
}

test('maxSamples counts records of the stream: replay trains more rows, but the run reads exactly maxSamples records', async () => {
  const { summary } = await run(400);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.prequential?.samples, 400, 'every record read was tested');
  assert.equal(summary.trainSamples, 400, 'and trained on');
  assert.equal(summary.steps, 400 / 8);
  assert.ok(summary.replayedSamples > 0, `replayed ${summary.replayedSamples}`);
  const perExperience = summary.perExperience.reduce((s, e) => s + e.samples, 0);
  assert.equal(perExperience, 400, 'experiences count records too');
});

test("a stopped stream run's summary counts every record trained, the unfinished experience's too", async () => {
  const { summary, stopped } = await run(4000, 30);
  assert.equal(stopped, 'SIGTERM');
  assert.equal(summary.status, 'stopped');
  assert.ok(summary.driftPoints.length >= 2, 'experiences had ended before the stop');
  // test-then-train: each record trained was tested first, and the stop falls between two batches
  assert.equal(summary.trainSamples, summary.prequential?.samples);
  assert.equal(summary.trainSamples, summary.steps * 8);
  assert.ok(summary.replayedSamples > 0);
});
