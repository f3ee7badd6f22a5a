import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');

type Doc = {
  data: { kind: string; limitPerClass?: number; limit?: number; dir?: string; scenario?: { type: string; experiences?: number } };
  training: { epochs?: number; iterations?: number; maxSamples?: number };
};

/**
 * The example, shrunk to a smoke-test budget: 30 images per digit (MNIST), 600 images (Fashion-MNIST),
 * one epoch (or at most 5 optimizer steps per experience when the example states `iterations`), at most
 * 1,500 stream samples. Strategy, model, optimizer and scenario stay as shipped.
 */
function shrink(doc: Doc): Doc {
  const data = { ...doc.data };
  if (data.kind === 'mnist') data.limitPerClass = 30;
  if (data.kind === 'fashion-mnist') data.limit = 600;
  const budget = doc.training.iterations !== undefined ? { iterations: Math.min(doc.training.iterations, 5) } : { epochs: 1 };
  const training = { ...doc.training, ...budget, ...(doc.training.maxSamples ? { maxSamples: Math.min(doc.training.maxSamples, 1500) } : {}) };
  return { ...doc, data, training };
}

// `stream-stdin` reads standard input: the live-source tests run it with piped records.
const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.pipeline.json') && !f.includes('stream-stdin'))
  .sort();

test('the smoke test covers every shipped example but the stdin one', () => {
  assert.ok(examples.length >= 48, `found ${examples.length} examples`);
});

for (const file of examples) {
  test(`the example ${file} trains end to end on a slice of its data`, async (t) => {
    const path = join(root, 'examples', file);
    const doc = shrink(JSON.parse(readFileSync(path, 'utf8')) as Doc);
    if (doc.data.kind === 'fashion-mnist' && !existsSync(doc.data.dir ?? '/usr/share/datasets/fashion-mnist')) {
      t.skip('Debian package dataset-fashion-mnist not installed');
      return;
    }
    const out = mkdtempSync(join(tmpdir(), 'engram-example-'));
    try {
      const loaded = await preparePipeline(doc, path, { resolveFrom: [here], builtins: [corePlugin] });
      const { summary } = await runPipeline(loaded, { outDir: out });
      assert.ok(summary.trainSamples > 0 && summary.steps > 0, `${summary.trainSamples} samples, ${summary.steps} steps`);
      const expected = doc.data.scenario?.experiences;
      if (summary.mode === 'experiences' && expected !== undefined) assert.equal(summary.experiences, expected);
      const acc = summary.averageAccuracy;
      assert.ok(acc !== null && acc >= 0 && acc <= 1, `average accuracy ${acc}`);
      assert.ok(summary.accuracyMatrix.flat().every((a) => a === null || (a >= 0 && a <= 1)));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
