import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from '../engine/engine.js';
import { fileModelLoader } from '../model/file-io.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { evaluateCheckpoint } from '../engine/evaluate-checkpoint.js';
import { exportCheckpointModel, latestValidCheckpoint } from './checkpoint-model.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-export-'));
const doc = fixtureDocument({ checkpoint: { enabled: true, everyBatches: 2, keep: 2 } });

test('an exported checkpoint model loads with tf.loadLayersModel and holds the same weights', async () => {
  await tf.setBackend('cpu');
  const dir = out();
  await runPipeline(await loadFixture(doc), { outDir: dir });
  const checkpoint = await latestValidCheckpoint(dir, () => assert.fail('no warning expected'));
  for (const to of [join(out(), 'folder'), join(out(), 'nested', 'my-model.json')]) {
    const file = await exportCheckpointModel(checkpoint, to);
    const before = tf.memory().numTensors;
    const model = await tf.loadLayersModel(fileModelLoader(file));
    const weights = new Float32Array(checkpoint.files.get('model/weights.bin')?.slice().buffer ?? new ArrayBuffer(0));
    const loaded = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
    assert.equal(loaded.length, weights.length);
    assert.ok(loaded.every((v, i) => Object.is(v, weights[i])), 'bit-identical weights');
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  }
});

test('eval of the final checkpoint reproduces the run\'s last accuracy row; a corrupt newest checkpoint is skipped with a warning', async () => {
  const dir = out();
  const loaded = await loadFixture(doc);
  const outcome = await runPipeline(loaded, { outDir: dir });
  const r = await evaluateCheckpoint(loaded, dir, () => assert.fail('no warning expected'));
  assert.deepEqual(r.results.map((x) => x.accuracy), outcome.summary.accuracyMatrix.at(-1));
  writeFileSync(join(r.dir, 'model', 'weights.bin'), 'x');
  const warnings: string[] = [];
  const older = await evaluateCheckpoint(loaded, dir, (m) => warnings.push(m));
  assert.ok(older.step < r.step);
  assert.match(warnings[0] ?? '', /weights\.bin fails its checksum/);
});
