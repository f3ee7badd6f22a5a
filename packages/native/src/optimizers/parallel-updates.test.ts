import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadAddon, type NativeAddon } from '../addon/native-addon.js';
import { seededValues, skipNative } from '../testing/backend-harness.js';
import { HEAP_FLOATS, adamStateBytes, makeAdamHeap, penalizedAdamSteps } from '../testing/penalized-adam-heap.js';

/** Pieces small enough (60,000 × 4 < 512k floats of work) to run on the calling thread alone. */
const PIECE = 60_000;

function addon(): NativeAddon {
  const loaded = loadAddon();
  assert.ok('addon' in loaded, 'error' in loaded ? loaded.error : '');
  return loaded.addon;
}

/** Runs the penalised steps in a worker thread; resolves with its p, m, v bytes. */
function inWorker(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('../testing/penalized-adam.worker.js', import.meta.url));
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('optimizer updates split over the chunk pool', { skip: skipNative }, () => {
  it('gives the same bits as the same update made piece by piece on the calling thread', (t) => {
    const native = addon();
    if (native.init().threads < 2) t.skip('one BLAS thread here: nothing is split');
    const whole = makeAdamHeap();
    const wholeValues = penalizedAdamSteps(native, whole, 0, HEAP_FLOATS);
    const pieces = makeAdamHeap();
    const pieceValues = wholeValues.map(() => 0);
    for (let start = 0; start < HEAP_FLOATS; start += PIECE) {
      // The update is element by element, so the pieces' steps do not depend on each other.
      penalizedAdamSteps(native, pieces, start, PIECE).forEach((v, i) => (pieceValues[i] = (pieceValues[i] ?? 0) + v));
    }
    assert.deepEqual(adamStateBytes(whole), adamStateBytes(pieces));
    assert.ok((wholeValues[0] ?? 0) > 1000, `penalty ${wholeValues[0]} is not trivial`);
    wholeValues.forEach((v, i) =>
      assert.ok(Math.abs(v - (pieceValues[i] ?? 0)) <= 1e-9 * v, `step ${i}: ${v} vs ${pieceValues[i]}`),
    );
    const p0 = seededValues(HEAP_FLOATS, 1);
    let moved = 0;
    for (let i = 0; i < HEAP_FLOATS; i++) if (whole.floats[i] !== p0[i]) moved++;
    assert.ok(moved > 0.99 * HEAP_FLOATS, `only ${moved} of ${HEAP_FLOATS} weights moved: a chunk was skipped`);
  });

  it('gives each of several worker threads updating at once the same bits as one update alone', async () => {
    const alone = makeAdamHeap();
    penalizedAdamSteps(addon(), alone, 0, HEAP_FLOATS);
    const results = await Promise.all([inWorker(), inWorker(), inWorker()]);
    for (const r of results) assert.deepEqual(r, adamStateBytes(alone));
  });
});
