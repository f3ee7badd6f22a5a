import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { idxToImageFolder } from '@engram/datasets';
import { startRedis, type TestRedis } from '@engram/datasets/testing';
import { Redis } from 'ioredis';
import { loadSweep, sweepJobs } from './sweep/sweep-plan.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');

type Doc = {
  task?: string;
  data: {
    kind: string;
    stream?: string;
    field?: string;
    inputShape?: number[];
    numClasses?: number;
    limitPerClass?: number;
    limit?: number;
    dir?: string;
    root?: string;
    scenario?: { type: string; experiences?: number; only?: { first?: number; last?: number } };
  };
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
  const budget =
    doc.training.iterations !== undefined ? { iterations: Math.min(doc.training.iterations, 5) } : { epochs: 1 };
  const training = {
    ...doc.training,
    ...budget,
    ...(doc.training.maxSamples ? { maxSamples: Math.min(doc.training.maxSamples, 1500) } : {}),
  };
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
    if (
      (doc.data.kind === 'fashion-mnist' || doc.data.kind === 'image-folder') &&
      !existsSync(doc.data.dir ?? '/usr/share/datasets/fashion-mnist')
    ) {
      t.skip('Debian package dataset-fashion-mnist not installed');
      return;
    }
    const out = mkdtempSync(join(tmpdir(), 'engram-example-'));
    // An image-folder example reads a tree its script writes once: here, 600 + 200 Fashion-MNIST PNGs.
    if (doc.data.kind === 'image-folder') doc.data.root = await smallFashionTree(out);
    // A Redis example reads from a server this test starts (REDIS_URL) and fills with maxSamples records.
    const redis = doc.data.kind === 'redis-stream' ? await redisFor(doc) : undefined;
    try {
      const loaded = await preparePipeline(doc, path, { resolveFrom: [here], builtins: [corePlugin] });
      const { summary } = await runPipeline(loaded, { outDir: out });
      assert.ok(
        summary.trainSamples > 0 && summary.steps > 0,
        `${summary.trainSamples} samples, ${summary.steps} steps`,
      );
      // A scenario's `only` range trains up to its last experience (the rows after it never ran).
      const only = doc.data.scenario?.only;
      const expected = only?.last !== undefined ? only.last + 1 : doc.data.scenario?.experiences;
      if (summary.mode === 'experiences' && expected !== undefined) assert.equal(summary.experiences, expected);
      if (doc.task === 'regression') {
        // a regression example reports errors in its targets' units instead of accuracy (a stream: prequential MAE)
        const mae = summary.errors?.averageMae ?? summary.prequential?.mae ?? null;
        assert.ok(mae !== null && Number.isFinite(mae) && mae >= 0, `average MAE ${mae}`);
        if (expected !== undefined && summary.mode === 'experiences')
          assert.equal(summary.errors?.maeMatrix.length, expected);
        return;
      }
      // a live source has no test set: its figure is the prequential (test-then-train) accuracy
      const acc =
        summary.averageAccuracy ?? (doc.data.kind === 'redis-stream' ? (summary.prequential?.accuracy ?? null) : null);
      assert.ok(acc !== null && acc >= 0 && acc <= 1, `average accuracy ${acc}`);
      assert.ok(summary.accuracyMatrix.flat().every((a) => a === null || (a >= 0 && a <= 1)));
    } finally {
      rmSync(out, { recursive: true, force: true });
      if (redis) {
        delete process.env['REDIS_URL'];
        await redis.dispose();
      }
    }
  });
}

/** Writes `dir/tree/{train,test}/<label>/*.png` from the first 600 / 200 Fashion-MNIST images. */
async function smallFashionTree(dir: string): Promise<string> {
  const src = '/usr/share/datasets/fashion-mnist';
  const tree = join(dir, 'tree');
  for (const [part, prefix, limit] of [
    ['train', 'train', 600],
    ['test', 't10k', 200],
  ] as const)
    await idxToImageFolder({
      images: join(src, `${prefix}-images-idx3-ubyte.gz`),
      labels: join(src, `${prefix}-labels-idx1-ubyte.gz`),
      out: join(tree, part),
      limit,
    });
  return tree;
}

/** Starts a redis-server for a redis-stream example, points REDIS_URL at it and writes maxSamples records. */
async function redisFor(doc: Doc): Promise<TestRedis> {
  const server = await startRedis();
  process.env['REDIS_URL'] = server.url;
  const client = new Redis(server.url);
  const features = (doc.data.inputShape ?? [1]).reduce((a, b) => a * b, 1);
  const p = client.pipeline();
  for (let i = 0; i < (doc.training.maxSamples ?? 1500); i++) {
    const y = i % (doc.data.numClasses ?? 2);
    p.xadd(
      doc.data.stream ?? 'stream',
      '*',
      doc.data.field ?? 'data',
      JSON.stringify({
        x: Array.from({ length: features }, (_, f) => (f === y ? 2 : 0) + ((i * 7 + f * 3) % 11) / 11),
        y,
      }),
    );
  }
  await p.exec();
  client.disconnect();
  return server;
}

const sweeps = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.sweep.json'))
  .sort();

test('the smoke test covers the shipped sweeps', () => {
  assert.ok(sweeps.length >= 1, `found ${sweeps.length} sweeps`);
});

for (const file of sweeps) {
  test(`the sweep ${file} validates every combination, and its first one trains on a slice of its data`, async () => {
    const plan = await loadSweep(join(root, 'examples', file));
    assert.ok(plan.combinations.length >= 2);
    const out = mkdtempSync(join(tmpdir(), 'engram-sweep-example-'));
    try {
      const job = sweepJobs(plan, out)[0];
      assert.ok(job);
      const loaded = await preparePipeline(shrink(job.doc as Doc), job.baseFile, {
        resolveFrom: [here],
        builtins: [corePlugin],
      });
      const { summary } = await runPipeline(loaded, { outDir: job.outDir });
      assert.ok(summary.trainSamples > 0 && summary.averageAccuracy !== null);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
