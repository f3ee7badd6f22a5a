import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EngramEvent } from '../events/engram-event.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { runPipeline } from './engine.js';
import type { RunOutcome } from './run-options.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-finished-'));

const stream = fixtureDocument({
  data: { kind: 'blobs', classes: 4, features: 8, endless: true },
  training: { batchSize: 8, maxSamples: 160, logEvery: 5 },
  evaluation: { initial: false },
  checkpoint: { enabled: true, everyBatches: 7, keep: 2 },
});

/** The run folder's files and their bytes (checkpoints included). */
function files(dir: string): Record<string, string> {
  const all: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (name.isFile()) {
      const path = join(name.parentPath, name.name);
      all[path] = readFileSync(path).toString('base64');
    }
  return all;
}

async function run(dir: string, resume: boolean, stopAt?: number): Promise<[RunOutcome, EngramEvent[]]> {
  const seen: EngramEvent[] = [];
  const controller = new AbortController();
  const outcome = await runPipeline(await loadFixture(stream), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        seen.push(e);
        if (stopAt !== undefined && e.type === 'batch-end' && e.step >= stopAt) controller.abort('SIGTERM');
      }),
  });
  return [outcome, seen];
}

test('resuming a stream run that reached its end runs nothing, writes nothing and returns the finished summary', async () => {
  await tf.setBackend('cpu');
  const dir = out();
  const [done] = await run(dir, false);
  assert.equal(done.summary.status, 'completed');
  assert.equal(done.finished, undefined);
  const before = files(dir);
  const [again, events] = await run(dir, true);
  assert.deepEqual(events, [], 'no event: nothing ran');
  assert.deepEqual(again.summary, done.summary);
  assert.match(again.finished?.dir ?? '', /step-\d{12}$/);
  assert.equal(again.finished?.step, done.summary.steps);
  assert.deepEqual(files(dir), before);
});

test('a stopped stream run is not finished: its resume trains the rest', async () => {
  await tf.setBackend('cpu');
  const dir = out();
  const [stopped] = await run(dir, false, 6);
  assert.equal(stopped.summary.status, 'stopped');
  const [resumed, events] = await run(dir, true);
  assert.equal(resumed.finished, undefined);
  assert.equal(resumed.summary.status, 'completed');
  assert.ok(
    events.some((e) => e.type === 'batch-end'),
    'the resume trained',
  );
});
