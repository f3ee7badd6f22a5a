import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch, DataSource } from '@engram/core';
import { build, experiencesOf, tempDir, testServices } from '../testing/support.js';
import { syntheticDescriptor } from '../sources/synthetic.source.js';
import { createJsonlFollow } from './follow.source.js';
import { LiveBatchSource } from './live-batch-source.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Live = DataSource & { state(): unknown; restore(s: unknown): void; close(): Promise<void> };

/** Pulls `n` batches of `size` from the source's endless experience, then leaves the pass suspended. */
async function batchesOf(source: Live, n: number, size: number): Promise<Batch[]> {
  const [exp] = await experiencesOf(source);
  const it = exp?.train.batches({ batchSize: size, shuffle: false, epoch: 0, seed: 0 })[Symbol.asyncIterator]();
  const out: Batch[] = [];
  while (out.length < n && it) out.push((await it.next()).value as Batch);
  return out;
}

const synthetic = {
  numClasses: 3,
  features: 4,
  endless: true,
  drift: 'abrupt',
  driftEvery: 50,
  buffer: 40,
  policy: 'block',
};

test(
  'a restored synthetic stream continues at the first sample not yet trained on, across abrupt drift, although ' +
    'the producer had buffered ahead',
  async () => {
    const a = build<Live>(syntheticDescriptor, synthetic, testServices(9));
    const all = await batchesOf(a, 12, 8); // 96 samples: crosses the drift at sample 50
    await a.close();
    const b = build<Live>(syntheticDescriptor, synthetic, testServices(9));
    await batchesOf(b, 5, 8);
    await sleep(20); // the producer fills its 40-sample buffer beyond the 40 samples pulled
    const saved = JSON.parse(JSON.stringify(b.state())) as { delivered: number; feed: { t: number } };
    await b.close();
    assert.deepEqual([saved.delivered, saved.feed.t], [40, 40]);
    const c = build<Live>(syntheticDescriptor, synthetic, testServices(9));
    c.restore(saved);
    const rest = await batchesOf(c, 7, 8);
    await c.close();
    assert.deepEqual(
      rest.map((r) => [...r.x]),
      all.slice(5).map((r) => [...r.x]),
    );
    assert.deepEqual(
      rest.map((r) => [...r.y]),
      all.slice(5).map((r) => [...r.y]),
    );
  },
);

test('a synthetic source refuses a position from another stream with a clear error', () => {
  const s = build<Live>(syntheticDescriptor, synthetic, testServices(9));
  assert.throws(
    () => s.restore({ delivered: 3, feed: { t: 3, sampler: [1, 2], centres: [1, 2, 3, 4] } }),
    /synthetic: a checkpoint position must come from the same stream/,
  );
});

test('jsonl-follow saves the byte offset of the first line the trainer has not pulled, and a restored follower starts there', async () => {
  const { dir, cleanup } = tempDir();
  const lines = Array.from({ length: 60 }, (_, i) => `{"x":[${i},${i % 7}],"y":${i % 3}}`);
  writeFileSync(join(dir, 'feed.jsonl'), `${lines.join('\n')}\n`);
  const options = {
    inputShape: [2],
    numClasses: 3,
    featuresField: 'x',
    labelField: 'y',
    buffer: 16,
    path: 'feed.jsonl',
    fromStart: true,
    pollMs: 20,
    policy: 'block' as const,
  };
  try {
    const a = createJsonlFollow(options, testServices(1, dir));
    const first = await batchesOf(a, 3, 5); // 15 lines pulled while up to 16 more sit in the buffer
    await sleep(40);
    assert.ok(a.train.queue.length > 0, 'lines are buffered beyond the pulled ones');
    const saved = a.state() as { delivered: number; feed: { offset: number; line: number } };
    await a.close();
    const offset15 = lines.slice(0, 15).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
    assert.deepEqual(saved, { delivered: 15, feed: { offset: offset15, line: 15 } });
    assert.deepEqual(
      first.flatMap((b) => [...b.y]),
      lines.slice(0, 15).map((_, i) => i % 3),
    );
    const b = createJsonlFollow(options, testServices(1, dir));
    b.restore(saved);
    const next = await batchesOf(b, 1, 5);
    await b.close();
    assert.deepEqual(
      [...(next[0]?.x ?? [])].filter((_, i) => i % 2 === 0),
      [15, 16, 17, 18, 19],
    );
    assert.throws(
      () => createJsonlFollow(options, testServices(1, dir)).restore({ delivered: 1, feed: 'x' }),
      /must be \{ offset, line \}/,
    );
  } finally {
    cleanup();
  }
});

test('a restored jsonl-follow reports a bad line by its number in the whole file', async () => {
  const { dir, cleanup } = tempDir();
  const lines = Array.from({ length: 30 }, (_, i) => (i === 22 ? 'not json' : `{"x":[${i}],"y":${i % 2}}`));
  writeFileSync(join(dir, 'feed.jsonl'), `${lines.join('\n')}\n`);
  const options = {
    inputShape: [1],
    numClasses: 2,
    featuresField: 'x',
    labelField: 'y',
    buffer: 4,
    path: 'feed.jsonl',
    fromStart: true,
    pollMs: 20,
    policy: 'block' as const,
  };
  try {
    const a = createJsonlFollow(options, testServices(1, dir));
    await batchesOf(a, 2, 5);
    const saved = a.state();
    await a.close();
    const services = testServices(1, dir);
    const b = createJsonlFollow(options, services);
    b.restore(saved);
    await batchesOf(b, 2, 5); // lines 11–20 and 21–25 minus the bad one
    await b.close();
    const warnings = services.emitted.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /skipped bad line 23:/);
  } finally {
    cleanup();
  }
});

test('a feed that is behind gets full batches; once caught up a batch takes only what has arrived', async () => {
  const services = testServices();
  const source = new LiveBatchSource({
    capacity: 8,
    policy: 'block',
    sampleShape: [1],
    name: 't',
    events: services.events,
    rng: services.rng,
  });
  source.caughtUp = false;
  const it = source.batches({ batchSize: 4, shuffle: false, epoch: 0, seed: 0 })[Symbol.asyncIterator]();
  const pending = it.next();
  for (const v of [1, 2]) await source.push({ x: Float32Array.of(v), y: 0 });
  await sleep(10);
  for (const v of [3, 4]) await source.push({ x: Float32Array.of(v), y: 0 });
  assert.deepEqual([...((await pending).value as Batch).x], [1, 2, 3, 4]);
  await source.push({ x: Float32Array.of(5), y: 0 });
  const partial = it.next();
  await sleep(10);
  source.caughtUp = true;
  assert.deepEqual([...((await partial).value as Batch).x], [5]);
  source.end();
});
