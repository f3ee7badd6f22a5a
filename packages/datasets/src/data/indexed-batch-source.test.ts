import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedBatchSource } from './indexed-batch-source.js';
import type { LabelledSet, RowLoader } from './labelled-set.js';

/** A loader whose loads finish only when the test releases them; row r's feature is r, row 5 unreadable. */
function slowLoader(prefetch: number) {
  const started: number[][] = [];
  const release: (() => void)[] = [];
  const loader: RowLoader & { waitedMs: number } = {
    prefetch,
    waitedMs: 0,
    load(rows) {
      started.push([...rows]);
      return new Promise((resolve) => {
        release.push(() =>
          resolve({ x: Float32Array.from(rows), ok: Uint8Array.from(rows, (r) => (r === 5 ? 0 : 1)) }),
        );
      });
    },
    waited(ms) {
      this.waitedMs += ms;
    },
  };
  return { loader, started, release };
}

test('an on-demand set is loaded at most prefetch batches ahead, in order, unreadable rows dropped', async () => {
  const { loader, started, release } = slowLoader(2);
  const set: LabelledSet = {
    x: new Float32Array(0),
    y: Int32Array.from({ length: 10 }, (_, i) => i % 2),
    sampleShape: [1],
    loader,
  };
  const source = new IndexedBatchSource(
    set,
    Int32Array.from({ length: 10 }, (_, i) => i),
  );
  const it = source.batches({ batchSize: 3, shuffle: false, epoch: 0, seed: 0 })[Symbol.asyncIterator]();
  const first = it.next();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [
    [0, 1, 2],
    [3, 4, 5],
  ]);
  release.shift()?.();
  const b0 = (await first).value as { x: Float32Array; y: Int32Array };
  assert.deepEqual([...b0.x], [0, 1, 2]);
  // Handing out batch 0 started batch 2: still two in flight, never more.
  assert.equal(started.length, 3);
  const rest: number[][] = [];
  for (;;) {
    release.shift()?.();
    const r = await it.next();
    if (r.done) break;
    rest.push([...(r.value as { x: Float32Array }).x]);
    assert.ok(started.length - rest.length - 1 <= 2);
  }
  assert.deepEqual(rest, [[3, 4], [6, 7, 8], [9]]);
  assert.ok(loader.waitedMs >= 0);
});

test('resuming at startBatch 2 of a shuffled epoch loads the same rows the full epoch had there', async () => {
  const rows = (startBatch?: number) => {
    const { loader, release } = slowLoader(3);
    const set: LabelledSet = { x: new Float32Array(0), y: new Int32Array(12), sampleShape: [1], loader };
    const src = new IndexedBatchSource(
      set,
      Int32Array.from({ length: 12 }, (_, i) => i),
    );
    const timer = setInterval(() => release.splice(0).forEach((f) => f()), 1);
    return (async () => {
      const out: number[] = [];
      for await (const b of src.batches({
        batchSize: 4,
        shuffle: true,
        epoch: 1,
        seed: 3,
        ...(startBatch ? { startBatch } : {}),
      }))
        out.push(...b.x);
      clearInterval(timer);
      return out;
    })();
  };
  const full = await rows();
  const resumed = await rows(2);
  assert.equal(full.length, 11); // row 5 unreadable
  assert.deepEqual(resumed, full.slice(full.length - resumed.length));
  assert.ok(resumed.length >= 3 && resumed.length <= 4);
});
