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

interface Case {
  readonly fixture: string;
  readonly classes: number;
  readonly features: number;
  readonly epochs: number;
}

const MLP: Case = { fixture: 'mlp', classes: 10, features: 784, epochs: 2 };
/** A PyTorch GRU over 7 steps × 5 values (flat rows reshaped inside), imported as Engram's reset-after GRU. */
const GRU: Case = { fixture: 'rnn-gru-flat-op17', classes: 4, features: 35, epochs: 6 };

const doc = (c: Case): Record<string, unknown> =>
  fixtureDocument({
    data: { kind: 'blobs', classes: c.classes, experiences: 2, perClass: 6, features: c.features },
    model: { load: onnxFixture(c.fixture).file },
    training: { epochs: c.epochs, batchSize: 16, logEvery: 1 },
    checkpoint: { enabled: true, everyBatches: 2, everyExperience: true, keep: 5 },
  });

async function run(c: Case, dir: string, stopAt: number | undefined, resume = false): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(doc(c)), {
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
  const reference = await run(MLP, refDir, undefined);
  assert.equal(tf.memory().numTensors, start, 'the run frees every tensor');
  assert.ok(reference.summary.steps >= 8, `trained ${reference.summary.steps} steps`);
  const topology = readFileSync(join(newest(refDir), 'model/model.json'), 'utf8');
  assert.match(topology, /"class_name":"Gelu"/, 'the GELU layer is checkpointed as itself');
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-resume-'));
  await run(MLP, dir, 5);
  const resumed = await run(MLP, dir, undefined, true);
  assert.deepEqual(resumed.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  assert.deepEqual(resumed.summary.loss, reference.summary.loss);
  assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
  assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
  rmSync(dir, { recursive: true, force: true });
  rmSync(refDir, { recursive: true, force: true });
});

test('an imported PyTorch GRU trains (loss falls), checkpoints as EngramGRU and resumes bit-identically', async () => {
  await tf.setBackend('cpu');
  const refDir = mkdtempSync(join(tmpdir(), 'engram-onnx-resume-'));
  const start = tf.memory().numTensors;
  const reference = await run(GRU, refDir, undefined);
  assert.equal(tf.memory().numTensors, start, 'the run frees every tensor');
  // The first experience: 12 samples, one batch an epoch, 6 epochs.
  const curve = (reference.summary.loss?.curve ?? []).filter((p) => p.x <= 6);
  assert.ok(curve.length >= 4, `${curve.length} loss points in the first experience`);
  const [first, last] = [curve[0]?.y ?? 0, curve[curve.length - 1]?.y ?? Infinity];
  assert.ok(last < 0.8 * first, `first experience's loss ${first} → ${last}`);
  const topology = readFileSync(join(newest(refDir), 'model/model.json'), 'utf8');
  assert.match(topology, /"class_name":"EngramGRU"/, 'the GRU is checkpointed as itself');
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-resume-'));
  await run(GRU, dir, 5);
  const resumed = await run(GRU, dir, undefined, true);
  assert.deepEqual(resumed.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  assert.deepEqual(resumed.summary.loss, reference.summary.loss);
  assert.equal(digest(dir, 'model/weights.bin'), digest(refDir, 'model/weights.bin'));
  assert.equal(digest(dir, 'state.bin'), digest(refDir, 'state.bin'));
  rmSync(dir, { recursive: true, force: true });
  rmSync(refDir, { recursive: true, force: true });
});
