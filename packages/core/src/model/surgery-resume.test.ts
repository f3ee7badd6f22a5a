import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { runPipeline, type RunOutcome } from '../index.js';

// Bit-exact resume across each surgery, through the public run API (as engine/resume.test.ts does):
// an uninterrupted run against runs stopped before the surgery (experience 0) and after it (inside
// experience 1, where the surgery happened), then resumed.

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-surgery-'));

const surgeries: Record<string, Record<string, unknown>> = {
  'widen-layer': { kind: 'widen-layer', layers: ['l0_dense'], units: 24, noise: 0.01, fromExperience: 1 },
  'insert-layer': { kind: 'insert-layer', after: 'l0_dense', fromExperience: 1 },
  'set-activation': { kind: 'set-activation', layers: ['l0_dense'], activation: 'tanh', fromExperience: 1 },
  'reinit-layers': { kind: 'reinit-layers', layers: ['l0_dense'], fromExperience: 1 },
};

const doc = (surgery: Record<string, unknown>): Record<string, unknown> =>
  fixtureDocument({
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
      ],
    },
    training: { epochs: 2, batchSize: 16, logEvery: 1 },
    adjust: [surgery],
    checkpoint: { enabled: true, everyBatches: 3, everyExperience: true, keep: 5 },
  });

async function run(
  surgery: Record<string, unknown>,
  dir: string,
  stopAt: number | undefined,
  resume = false,
): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(doc(surgery)), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAt !== undefined && e.type === 'batch-end' && e.step >= stopAt) controller.abort('SIGTERM');
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

/** The checkpointed topology's layers (class and configuration; tfjs' model and weight names aside). */
const layersOf = (dir: string): unknown =>
  (
    JSON.parse(readFileSync(join(newest(dir), 'model/model.json'), 'utf8')) as {
      modelTopology: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    }
  ).modelTopology.config.layers
    .filter((l) => l.class_name !== 'InputLayer')
    .map((l) => [l.class_name, l.config]);

const deterministic = (o: RunOutcome): unknown => ({
  m: o.summary.accuracyMatrix,
  l: o.summary.loss,
  s: o.summary.steps,
  n: o.summary.trainSamples,
  p: o.summary.perExperience.map((e) => [e.samples, e.loss]),
});

const warnings = (dir: string): string[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; message?: string })
    .filter((e) => e.type === 'warning')
    .map((e) => e.message ?? '');

for (const [kind, surgery] of Object.entries(surgeries)) {
  test(`a run with ${kind} at experience 1 resumes bit-identically from either side of the surgery`, async () => {
    await tf.setBackend('cpu');
    const refDir = out();
    const start = tf.memory().numTensors;
    const reference = await run(surgery, refDir, undefined);
    assert.equal(tf.memory().numTensors, start, "the run frees every tensor, the rebuilt model's included");
    for (const stopAt of [7, 13]) {
      const dir = out();
      await run(surgery, dir, stopAt);
      const resumed = await run(surgery, dir, undefined, true);
      assert.deepEqual(deterministic(resumed), deterministic(reference), `stopped at step ${stopAt}`);
      assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
      assert.deepEqual(layersOf(dir), layersOf(refDir), 'same topology');
      assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
      assert.deepEqual(warnings(dir), warnings(refDir), "the surgery's warnings are logged once");
      rmSync(dir, { recursive: true, force: true });
    }
    rmSync(refDir, { recursive: true, force: true });
  });
}
