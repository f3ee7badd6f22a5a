import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from '../engine/engine.js';
import { fileModelLoader } from '../model/file-io.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { evaluateCheckpoint } from '../engine/evaluate-checkpoint.js';
import {
  exportCheckpointModel,
  latestValidCheckpoint,
  locateCheckpoints,
  openNewestValid,
} from './checkpoint-model.js';
import { CorruptCheckpointError } from './checkpoint.store.js';

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
    assert.ok(
      loaded.every((v, i) => Object.is(v, weights[i])),
      'bit-identical weights',
    );
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  }
});

test(
  "eval of the final checkpoint reproduces the run's last accuracy row; a corrupt newest checkpoint is skipped " +
    'with a warning',
  async () => {
    const dir = out();
    const loaded = await loadFixture(doc);
    const outcome = await runPipeline(loaded, { outDir: dir });
    const r = await evaluateCheckpoint(loaded, dir, () => assert.fail('no warning expected'));
    assert.deepEqual(
      r.results.map((x) => x.accuracy),
      outcome.summary.accuracyMatrix.at(-1),
    );
    writeFileSync(join(r.dir, 'model', 'weights.bin'), 'x');
    const warnings: string[] = [];
    const older = await evaluateCheckpoint(loaded, dir, (m) => warnings.push(m));
    assert.ok(older.step < r.step);
    assert.match(warnings[0] ?? '', /weights\.bin fails its checksum/);
  },
);

test('a run folder, its checkpoints folder and one checkpoint folder all locate the same checkpoints folder and run folder', () => {
  const run = out();
  const root = join(run, 'checkpoints');
  const one = join(root, 'step-000000005');
  mkdirSync(one, { recursive: true });
  writeFileSync(join(one, 'manifest.json'), '{}');
  assert.deepEqual(locateCheckpoints(run), { root, runDir: run, checkpoint: undefined });
  assert.deepEqual(locateCheckpoints(root), { root, runDir: run, checkpoint: undefined });
  assert.deepEqual(locateCheckpoints(one), { root, runDir: run, checkpoint: one });
  // A folder of checkpoints under another name is its own run folder.
  const other = out();
  assert.deepEqual(locateCheckpoints(other), { root: other, runDir: other, checkpoint: undefined });
});

test(
  "openNewestValid skips corrupt checkpoints with a warning, passes other errors on, and throws the caller's " +
    'error when all are corrupt',
  async () => {
    const warnings: string[] = [];
    const open = async (dir: string): Promise<string> => {
      if (dir.startsWith('bad')) throw new CorruptCheckpointError(`${dir}: sha256 mismatch`);
      if (dir === 'broken') throw new TypeError('not a checkpoint problem');
      return dir;
    };
    assert.equal(
      await openNewestValid(
        ['bad-3', 'good-2', 'good-1'],
        open,
        (m) => warnings.push(m),
        () => new Error('unused'),
      ),
      'good-2',
    );
    assert.deepEqual(warnings, ['skipping corrupt checkpoint: bad-3: sha256 mismatch']);
    await assert.rejects(
      openNewestValid(
        ['bad-2', 'bad-1'],
        open,
        () => undefined,
        (n) => new Error(`all ${n} corrupt`),
      ),
      /^Error: all 2 corrupt$/,
    );
    await assert.rejects(
      openNewestValid(
        ['broken', 'good-1'],
        open,
        () => undefined,
        () => new Error('unused'),
      ),
      TypeError,
    );
  },
);
