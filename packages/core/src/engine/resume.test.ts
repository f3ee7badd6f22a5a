import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { runPipeline } from './engine.js';
import { ResumeError, pipelineDifferences } from './resume.js';
import type { RunOutcome } from './run-options.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-resume-'));

const doc = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  fixtureDocument({
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
      ],
    },
    training: { epochs: 2, batchSize: 16, logEvery: 1 },
    checkpoint: { enabled: true, everyBatches: 3, keep: 3 },
    ...overrides,
  });

/** Runs, aborting (as SIGTERM does) once `stopAtStep` optimizer steps are done. */
async function runUntil(
  dir: string,
  stopAtStep: number | undefined,
  resume = false,
  warn?: (m: string) => void,
): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(doc()), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    ...(warn ? { warn } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAtStep !== undefined && e.type === 'batch-end' && e.step >= stopAtStep) controller.abort('SIGTERM');
      }),
  });
}

function newest(dir: string): string {
  const root = join(dir, 'checkpoints');
  return join(
    root,
    readdirSync(root)
      .filter((n) => n.startsWith('step-'))
      .sort()
      .pop() ?? '',
  );
}

const digest = (dir: string, file: string): string =>
  createHash('sha256')
    .update(readFileSync(join(newest(dir), file)))
    .digest('hex');

const deterministic = (o: RunOutcome): unknown => ({
  m: o.summary.accuracyMatrix,
  l: o.summary.loss,
  s: o.summary.steps,
  n: o.summary.trainSamples,
  p: o.summary.perExperience.map((e) => [e.samples, e.loss]),
  c: o.summary.checkpoints,
});

test('a run stopped by a signal mid-epoch writes a checkpoint there and resumes to the uninterrupted result, bit for bit', async () => {
  await tf.setBackend('cpu');
  const refDir = out();
  const reference = await runUntil(refDir, undefined);
  const dir = out();
  const stopped = await runUntil(dir, 5);
  assert.equal(stopped.stopped, 'SIGTERM');
  assert.match(newest(dir), /step-000000000005$/);
  const before = tf.memory().numTensors;
  const resumed = await runUntil(dir, undefined, true);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(deterministic(resumed), deterministic(reference));
  assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
  assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
  const seqs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i),
  );
});

test('a corrupt newest checkpoint is reported and the previous one is used', async () => {
  const refDir = out();
  const reference = await runUntil(refDir, undefined);
  const dir = out();
  await runUntil(dir, 7);
  const bad = newest(dir);
  writeFileSync(join(bad, 'state.bin'), 'garbage');
  const warnings: string[] = [];
  const resumed = await runUntil(dir, undefined, true, (m) => warnings.push(m));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /state\.bin fails its checksum/);
  assert.deepEqual(resumed.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
});

test('resuming without any checkpoint starts a new run and says so in one line', async () => {
  const warnings: string[] = [];
  const fresh = await runUntil(out(), undefined, true, (m) => warnings.push(m));
  const reference = await runUntil(out(), undefined);
  assert.deepEqual(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^nothing to resume: no checkpoint in .*checkpoints; starting a new run$/);
  assert.deepEqual(fresh.summary.accuracyMatrix, reference.summary.accuracyMatrix);
});

test('a changed training section makes the checkpoint incompatible; output, checkpoint and loggers may change', async () => {
  const dir = out();
  await runUntil(dir, 4);
  const changed = await loadFixture(doc({ training: { epochs: 3, batchSize: 16, logEvery: 1 } }));
  await assert.rejects(
    runPipeline(changed, { outDir: dir, resume: true }),
    (e: unknown) => e instanceof ResumeError && /"training" differs/.test(e.message),
  );
  const a = (await loadFixture(doc())).definition;
  const b = (
    await loadFixture(doc({ checkpoint: { enabled: true, everyBatches: 5, keep: 9 }, output: { dir: '/elsewhere' } }))
  ).definition;
  assert.deepEqual(pipelineDifferences(a, b), []);
});

test('a NaN loss stops the run naming the experience, writes nothing over the last good checkpoint', async () => {
  const dir = out();
  const loaded = await loadFixture(
    doc({ optimizer: { type: 'sgd', learningRate: 1e30 }, checkpoint: { enabled: true, everyBatches: 1, keep: 2 } }),
  );
  await assert.rejects(
    runPipeline(loaded, { outDir: dir }),
    (e: unknown) =>
      e instanceof Error &&
      /loss is (NaN|Infinity|-Infinity) at experience \d+, epoch \d+, step \d+|weight \S+ is not finite at experience \d+, epoch \d+, batch \d+/.test(
        e.message,
      ),
  );
  const last = newest(dir);
  const { manifest } = await CheckpointStore.read(last);
  const states = JSON.parse(
    new TextDecoder().decode((await CheckpointStore.read(last)).files.get('state.json')),
  ) as Record<string, { meta: { cursor: { step: number } } }>;
  assert.equal(manifest.step, states['/run/cursor']?.meta.cursor.step);
  const weights = new Float32Array(
    (await CheckpointStore.read(last)).files.get('model/weights.bin')?.slice().buffer ?? new ArrayBuffer(0),
  );
  assert.ok(weights.length > 0 && weights.every((w) => Number.isFinite(w)), 'the last checkpoint holds finite weights');
});

test('checkpoints point into metrics.jsonl instead of carrying the history, and resume refuses without it', async () => {
  await tf.setBackend('cpu');
  const dir = out();
  await runUntil(dir, 8);
  const root = join(dir, 'checkpoints');
  const all = readdirSync(root)
    .filter((n) => n.startsWith('step-'))
    .sort();
  for (const name of all) {
    const files = readdirSync(join(root, name));
    assert.ok(!files.includes('events.jsonl'), `${name} carries no event history`);
    const run = JSON.parse(readFileSync(join(root, name, 'run.json'), 'utf8')) as {
      metrics: { bytes: number; seq: number };
    };
    const prefix = readFileSync(join(dir, 'metrics.jsonl'))
      .subarray(0, run.metrics.bytes)
      .toString('utf8')
      .trim()
      .split('\n');
    assert.equal(
      (JSON.parse(prefix.at(-1) ?? '{}') as { seq: number }).seq,
      run.metrics.seq,
      `${name} marks the end of a recorded event`,
    );
  }
  // The checkpoint files do not grow with the history: the later checkpoint is the same size.
  const size = (name: string): number =>
    Object.values(
      (
        JSON.parse(readFileSync(join(root, name, 'manifest.json'), 'utf8')) as {
          files: Record<string, { bytes: number }>;
        }
      ).files,
    ).reduce((s, f) => s + f.bytes, 0);
  const [first, last] = [all[0] ?? '', all.at(-1) ?? ''];
  assert.ok(Math.abs(size(last) - size(first)) < 512, `${first}: ${size(first)} bytes, ${last}: ${size(last)} bytes`);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  // every checkpoint's history is gone: each is skipped (warning naming metrics.jsonl), then nothing is left
  await assert.rejects(
    runUntil(dir, undefined, true),
    (e: unknown) =>
      e instanceof ResumeError && /nothing to resume: all \d+ checkpoint\(s\) .* are corrupt/.test(e.message),
  );
});

test('a run that freezes layers from experience 1 on resumes bit-identically from either side of the freeze', async () => {
  await tf.setBackend('cpu');
  const frozen = doc({
    adjust: [{ kind: 'freeze', layers: ['l0_dense'], fromExperience: 1 }],
    checkpoint: { enabled: true, everyBatches: 3, everyExperience: true, keep: 5 },
  });
  const runFrozen = async (dir: string, stopAt: number | undefined, resume = false): Promise<RunOutcome> => {
    const controller = new AbortController();
    return runPipeline(await loadFixture(frozen), {
      outDir: dir,
      signal: controller.signal,
      ...(resume ? { resume: true } : {}),
      observe: (events$) =>
        events$.subscribe((e) => {
          if (stopAt !== undefined && e.type === 'batch-end' && e.step >= stopAt) controller.abort('SIGTERM');
        }),
    });
  };
  const refDir = out();
  const reference = await runFrozen(refDir, undefined);
  for (const stopAt of [7, 13]) {
    const dir = out();
    await runFrozen(dir, stopAt);
    const resumed = await runFrozen(dir, undefined, true);
    // The stop adds its own checkpoint, so only the checkpoint count may differ.
    const { c: _resumedCount, ...got } = deterministic(resumed) as Record<string, unknown>;
    const { c: _referenceCount, ...want } = deterministic(reference) as Record<string, unknown>;
    assert.deepEqual(got, want, `stopped at step ${stopAt}`);
    assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
    assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
  }
});
