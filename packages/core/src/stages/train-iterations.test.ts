import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from '../engine/engine.js';
import type { RunOutcome } from '../engine/run-options.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-iterations-'));

// Each experience of the fixture trains on 2 classes × 40 samples: 5 batches of 16 per epoch.
// 7 iterations = one full epoch and 2 batches of a second one.
const doc = (training: Record<string, unknown>): Record<string, unknown> =>
  fixtureDocument({
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
      ],
    },
    training: { batchSize: 16, logEvery: 1, ...training },
    checkpoint: { enabled: true, everyBatches: 2, keep: 2 },
  });

async function runUntil(
  dir: string,
  training: Record<string, unknown>,
  stopAtStep?: number,
  resume = false,
): Promise<{ outcome: RunOutcome }> {
  const controller = new AbortController();
  const outcome = await runPipeline(await loadFixture(doc(training)), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAtStep !== undefined && e.type === 'batch-end' && e.step >= stopAtStep) controller.abort('SIGTERM');
      }),
  });
  return { outcome };
}

function weights(dir: string): string {
  const root = join(dir, 'checkpoints');
  const last =
    readdirSync(root)
      .filter((n) => n.startsWith('step-'))
      .sort()
      .pop() ?? '';
  return createHash('sha256')
    .update(readFileSync(join(root, last, 'model/weights.bin')))
    .digest('hex');
}

test('training.iterations runs exactly that many optimizer steps per experience, crossing epoch ends', async () => {
  await tf.setBackend('cpu');
  const { outcome } = await runUntil(out(), { iterations: 7 });
  assert.equal(outcome.summary.steps, 14);
  const { outcome: epochs } = await runUntil(out(), { epochs: 2 });
  assert.equal(epochs.summary.steps, 20);
});

test('a run with an iteration budget stopped mid-experience resumes to the uninterrupted result, bit for bit', async () => {
  await tf.setBackend('cpu');
  const refDir = out();
  const reference = await runUntil(refDir, { iterations: 7 });
  const dir = out();
  // step 6: inside experience 0's second (cut) epoch, right after a checkpoint
  const stopped = await runUntil(dir, { iterations: 7 }, 6);
  assert.equal(stopped.outcome.stopped, 'SIGTERM');
  const resumed = await runUntil(dir, { iterations: 7 }, undefined, true);
  assert.equal(resumed.outcome.summary.steps, reference.outcome.summary.steps);
  assert.deepEqual(resumed.outcome.summary.accuracyMatrix, reference.outcome.summary.accuracyMatrix);
  assert.deepEqual(resumed.outcome.summary.loss, reference.outcome.summary.loss);
  assert.equal(weights(dir), weights(refDir));
});
