import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PredictionStore } from './prediction-store.js';

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
  // Each entry costs 400 bytes of inputs + 96 of overhead = 496; 2,000 bytes hold 4.
  const store = new PredictionStore({ ttlMs: 60_000, maxBytes: 2000 });
  for (let i = 0; i < 10; i++) {
    store.put(entry(`p${i}`, 100));
    assert.ok(store.bytes <= 2000);
  }
  assert.equal(store.size, 4);
  assert.equal(store.bytes, 4 * 496);
  assert.deepEqual(store.take('p0'), { missing: 'evicted' });
  assert.ok(!('missing' in store.take('p9')));
  assert.equal(store.counts.evicted, 6);
});
