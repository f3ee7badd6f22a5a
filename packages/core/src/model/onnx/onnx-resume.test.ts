import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline, type RunOutcome } from '../../index.js';
import { fixtureDocument, loadFixture } from '../../testing/fixture-pipeline.js';
import { onnxFixture } from '../../testing/onnx-fixtures.js';

// An imported PyTorch model is an ordinary Engram model: it trains, checkpoints (its GELU layer
// included) and resumes bit-identically, through the public run API as engine/resume.test.ts does.

const doc = (): Record<string, unknown> =>
  fixtureDocument({
    data: { kind: 'blobs', classes: 10, experiences: 2, perClass: 6, features: 784 },
    model: { load: onnxFixture('mlp').file },
    training: { epochs: 2, batchSize: 16, logEvery: 1 },
    checkpoint: { enabled: true, everyBatches: 2, everyExperience: true, keep: 5 },
  });

async function run(dir: string, stopAt: number | undefined, resume = false): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(doc()), {
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
  const last = readdirSync(root)
    .filter((n) => n.startsWith('step-'))
    .sort()
    .pop();
  return join(root, last ?? '');
}

const digest = (dir: string, file: string): string =>
  createHash('sha256')
    .update(readFileSync(join(newest(dir), file)))
    .digest('hex');

test('an imported PyTorch MLP trains, checkpoints and resumes bit-identically after a stop', async () => {
  await tf.setBackend('cpu');
  const refDir = mkdtempSync(join(tmpdir(), 'engram-onnx-resume-'));
  const start = tf.memory().numTensors;
  const reference = await run(refDir, undefined);
  assert.equal(tf.memory().numTensors, start, 'the run frees every tensor');
  assert.ok(reference.summary.steps >= 8, `trained ${reference.summary.steps} steps`);
  const topology = readFileSync(join(newest(refDir), 'model/model.json'), 'utf8');
  assert.match(topology, /"class_name":"Gelu"/, 'the GELU layer is checkpointed as itself');
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-resume-'));
  await run(dir, 5);
  const resumed = await run(dir, undefined, true);
  assert.deepEqual(resumed.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  assert.deepEqual(resumed.summary.loss, reference.summary.loss);
  assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
  assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
  rmSync(dir, { recursive: true, force: true });
  rmSync(refDir, { recursive: true, force: true });
});
