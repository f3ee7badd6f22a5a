import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from './engine.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { BlobDataSource, hookLog } from '../testing/fixture.plugin.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-engine-'));

test('strategies hooks run in the documented order, strategy by strategy', async () => {
  hookLog.length = 0;
  const loaded = await loadFixture(
    fixtureDocument({
      strategy: [
        { kind: 'recorder', label: 'a' },
        { kind: 'recorder', label: 'b' },
      ],
      data: { kind: 'blobs', classes: 4, experiences: 2, perClass: 4 },
      training: { epochs: 1, batchSize: 8 },
    }),
  );
  await runPipeline(loaded, { outDir: out() });
  const firstExperience = hookLog.slice(0, 6);
  assert.deepEqual(firstExperience, [
    'a:beforeExperience',
    'b:beforeExperience',
    'a:adaptModel',
    'b:adaptModel',
    'a:trainData',
    'b:trainData',
  ]);
  const step = hookLog.slice(6, 14);
  assert.deepEqual(step, [
    'a:transformBatch',
    'b:transformBatch',
    'a:penalty',
    'b:penalty',
    'a:afterBackward',
    'b:afterBackward',
    'a:afterBatch',
    'b:afterBatch',
  ]);
  // 2 experiences x 1 batch of 8 samples each: the experience ends after its only step.
  assert.deepEqual(hookLog.slice(14, 16), ['a:afterExperience', 'b:afterExperience']);
  assert.equal(hookLog.filter((h) => h === 'a:afterExperience').length, 2);
});

test('a whole run leaves no tensor behind and writes its summary', async () => {
  const loaded = await loadFixture(fixtureDocument());
  await runPipeline(loaded, { outDir: out() }); // warm-up: kernels and backend state allocate once
  const before = tf.memory().numTensors;
  const dir = out();
  const outcome = await runPipeline(await loadFixture(fixtureDocument()), { outDir: dir });
  assert.equal(tf.memory().numTensors, before);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
    accuracyMatrix: number[][];
    averageAccuracy: number;
  };
  assert.equal(summary.accuracyMatrix.length, 2);
  assert.ok(summary.averageAccuracy > 0.4, `blobs are easy; got ${summary.averageAccuracy}`);
  assert.equal(outcome.summary.averageAccuracy, summary.averageAccuracy);
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; type: string });
  assert.deepEqual(
    lines.map((l) => l.seq),
    lines.map((_, i) => i),
  );
  assert.equal(lines[0]?.type, 'run-start');
  assert.equal(lines.at(-1)?.type, 'run-end');
});

test('a head grown at each experience keeps the trained rows and leaks nothing', async () => {
  const doc = fixtureDocument({
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }], head: { units: 2 } },
    adjust: [{ kind: 'grow-head' }],
  });
  await runPipeline(await loadFixture(doc), { outDir: out() });
  const before = tf.memory().numTensors;
  const outcome = await runPipeline(await loadFixture(doc), { outDir: out() });
  assert.equal(tf.memory().numTensors, before);
  const [first, second] = outcome.summary.accuracyMatrix;
  assert.ok((first?.[0] ?? 0) > 0.8, `experience 0 learned with a 2-unit head: ${first?.[0]}`);
  assert.ok((second?.[1] ?? 0) > 0.8, `experience 1 learned after the head grew to 4 units: ${second?.[1]}`);
});

test('the same seed gives the same accuracy matrix and losses', async () => {
  const a = await runPipeline(await loadFixture(fixtureDocument()), { outDir: out() });
  const b = await runPipeline(await loadFixture(fixtureDocument()), { outDir: out() });
  assert.deepEqual(a.summary.accuracyMatrix, b.summary.accuracyMatrix);
  assert.deepEqual(a.summary.loss?.curve, b.summary.loss?.curve);
});

test('an endless source faster than training is pulled one batch at a time, so memory stays bounded', async () => {
  const doc = fixtureDocument({
    data: { kind: 'blobs', classes: 4, features: 64, endless: true },
    training: { batchSize: 4, maxSamples: 8000, logEvery: 50 },
    evaluation: { initial: false },
  });
  const loaded = await loadFixture(doc);
  const rss: number[] = [];
  const outcome = await runPipeline(loaded, {
    outDir: out(),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (e.type === 'prequential') rss.push(process.memoryUsage().heapUsed);
      }),
  });
  const source = BlobDataSource.lastEndless;
  assert.ok(source);
  // Pull semantics: the source produced at most one batch more than training consumed.
  assert.ok(
    source.produced <= outcome.summary.steps + 1,
    `produced ${source.produced}, trained ${outcome.summary.steps}`,
  );
  assert.equal(outcome.summary.trainSamples, 8000);
  assert.ok(outcome.summary.prequential && outcome.summary.prequential.accuracy > 0.5);
  const warm = rss.slice(Math.floor(rss.length / 4));
  const growth = Math.max(...warm) - Math.min(...warm);
  assert.ok(growth < 64 * 1024 * 1024, `heap varied by ${(growth / 1e6).toFixed(1)} MB over the stream`);
});
