import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ENTRY_OVERHEAD, PredictionStore } from './prediction-store.js';
import { predictionId } from './prediction-id.js';

const entry = (id: string, n = 4) => ({ id, x: new Float32Array(n), label: 1, version: 1 });

test('a stored prediction is taken once; a second take, an unknown id and an expired one each say why', () => {
  let now = 1000;
  const store = new PredictionStore({ ttlMs: 500, maxBytes: 1 << 20, now: () => now });
  store.put(entry('a'));
  store.put(entry('b'));
  const a = store.take('a');
  assert.ok(!('missing' in a));
  assert.equal(a.id, 'a');
  assert.deepEqual(store.take('a'), { missing: 'already-labelled' });
  assert.deepEqual(store.take('zzz'), { missing: 'unknown' });
  now += 501;
  assert.deepEqual(store.take('b'), { missing: 'expired' });
  assert.equal(store.size, 0);
  assert.equal(store.bytes, 0);
  assert.deepEqual(store.counts, { stored: 2, labelled: 1, expired: 1, evicted: 0 });
});

test('the store never holds more bytes than its limit: the oldest predictions are evicted first', () => {
  // Each entry costs 400 bytes of inputs + the per-entry overhead; the limit holds 4 of them and a half.
  const cost = 400 + ENTRY_OVERHEAD;
  const store = new PredictionStore({ ttlMs: 60_000, maxBytes: Math.floor(4.5 * cost) });
  for (let i = 0; i < 10; i++) {
    store.put(entry(`p${i}`, 100));
    assert.ok(store.bytes <= 4.5 * cost);
  }
  assert.equal(store.size, 4);
  assert.equal(store.bytes, 4 * cost);
  assert.deepEqual(store.take('p0'), { missing: 'evicted' });
  assert.ok(!('missing' in store.take('p9')));
  assert.equal(store.counts.evicted, 6);
});

test('the bytes the store counts are not below the heap its predictions really take, so maxBytes bounds memory', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = (): number => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  for (const [floats, shadow] of [
    [2, false],
    [4, true],
    [784, false],
  ] as const) {
    const n = floats > 100 ? 5_000 : 30_000;
    const store = new PredictionStore({ ttlMs: 600_000, maxBytes: 2 ** 40 });
    const source = new Float32Array(floats * 2).fill(0.5);
    const before = used();
    for (let i = 0; i < n; i++)
      store.put({
        id: predictionId(),
        x: source.slice(0, floats), // as the prediction route stores them: a copy per instance
        label: i % 3,
        version: 1,
        ...(shadow ? { shadow: { label: 1, version: 2 } } : {}),
      });
    const real = (used() - before) / n;
    const counted = store.bytes / n;
    assert.ok(
      real <= counted,
      `${floats} floats${shadow ? ' + shadow' : ''}: ${real.toFixed(0)} bytes of heap per entry, ${counted} counted`,
    );
    // ... and not a wild over-count either (it would evict what fits).
    assert.ok(real > counted * 0.6, `${floats} floats: ${real.toFixed(0)} real vs ${counted} counted`);
    assert.equal(store.size, n);
  }
});
