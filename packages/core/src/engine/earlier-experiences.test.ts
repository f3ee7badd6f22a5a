import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { preparePipeline, type LoadedPipeline } from '../loading/pipeline.loader.js';
import { corePlugin } from '../builtins/core.plugin.js';
import { fixtureDocument } from '../testing/fixture-pipeline.js';
import fixturePlugin, { BlobDataSource } from '../testing/fixture.plugin.js';
import { sameData } from './earlier-experiences.js';
import type { LineageEntry } from './run-lineage.js';
import { runPipeline } from './engine.js';

/** The fixture pipeline with the fixture plugin as a built-in (so an earlier run's data can be rebuilt), as if read from `folder`. */
function load(name: string, folder: string, data: Record<string, unknown> = {}): Promise<LoadedPipeline> {
  const doc = fixtureDocument({
    name,
    plugins: [],
    checkpoint: { enabled: true },
    data: { kind: 'blobs', classes: 4, experiences: 2, perClass: 24, ...data },
  });
  return preparePipeline(doc, join(folder, 'pipeline.json'), { builtins: [corePlugin, fixturePlugin] });
}

test(
  "an earlier run with this run's data is evaluated on this run's experiences, not rebuilt, and the accuracy " +
    "matrix is the rebuilt one's",
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'engram-earlier-'));
    const here = join(root, 'pipelines');
    const said: string[] = [];
    const warn = (m: string): void => void said.push(m);
    await runPipeline(await load('a', here), { outDir: join(root, 'a'), warn });
    // What one run of b builds on its own (its data source, once).
    let before = BlobDataSource.builds;
    await runPipeline(await load('b', here), { outDir: join(root, 'b-alone'), warn });
    const alone = BlobDataSource.builds - before;
    const tensors = tf.memory().numTensors;
    // b --from a with the same data section, seed, plugins and folder: a's data is b's, built once.
    before = BlobDataSource.builds;
    const reused = await runPipeline(await load('b', here), {
      outDir: join(root, 'b-reused'),
      from: join(root, 'a'),
      warn,
    });
    assert.equal(BlobDataSource.builds - before, alone, "the earlier run's data is not built again");
    assert.equal(tf.memory().numTensors, tensors);
    // The same pipeline read from another folder: relative paths could differ, so a's data is rebuilt from its own pipeline.
    before = BlobDataSource.builds;
    const rebuilt = await runPipeline(await load('b', join(root, 'elsewhere')), {
      outDir: join(root, 'b-rebuilt'),
      from: join(root, 'a'),
      warn,
    });
    assert.equal(BlobDataSource.builds - before, alone + 1);
    assert.deepEqual(said, []);
    // a: experiences 0-1; b, numbered after them: 2-3. b's rows evaluate a's test sets too.
    const m = reused.summary.accuracyMatrix;
    assert.equal(m.length, 4);
    assert.ok(
      m.slice(2).every((row) => row.length === 4 && row.every((v) => typeof v === 'number')),
      JSON.stringify(m),
    );
    assert.deepEqual(m, rebuilt.summary.accuracyMatrix);
    assert.equal(reused.summary.steps, rebuilt.summary.steps);
    assert.equal(reused.summary.warnings, rebuilt.summary.warnings);
  },
);

test('same data means the same data section, seed, plugins and folder; the model, strategy or name may differ', async () => {
  const current = await load('b', '/tmp/engram-same-data');
  const entry = (loaded: LoadedPipeline, change: Record<string, unknown> = {}): LineageEntry => ({
    name: loaded.definition.name,
    pipeline: { ...loaded.definition, ...change },
    baseDir: loaded.baseDir,
    offset: 2,
  });
  const a = await load('a', '/tmp/engram-same-data');
  assert.equal(sameData(entry(a), current), true);
  assert.equal(
    sameData(
      entry(a, {
        model: { layers: [{ type: 'dense', units: 4, activation: 'relu' }] },
        strategy: { kind: 'recorder' },
      }),
      current,
    ),
    true,
  );
  assert.equal(sameData(entry(await load('a', '/tmp/engram-same-data', { perClass: 25 })), current), false);
  assert.equal(sameData(entry(await load('a', '/tmp/engram-elsewhere')), current), false);
  assert.equal(sameData(entry(a, { seed: 8 }), current), false);
  assert.equal(sameData(entry(a, { plugins: ['@engram/datasets'] }), current), false);
});
