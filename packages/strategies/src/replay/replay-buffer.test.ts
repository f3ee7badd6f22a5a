import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@engram/core';
import { ReplayBuffer } from './replay-buffer.js';
import { batchOf } from '../testing/fixtures.js';

const items = (from: number, n: number, label: (i: number) => number = () => 0) =>
  batchOf(
    Array.from({ length: n }, (_, i) => [from + i]),
    Array.from({ length: n }, (_, i) => label(from + i)),
  );

test('reservoir sampling keeps each seen item with probability size/seen (fixed seed, 3000 trials)', () => {
  const trials = 3000,
    seen = 100,
    size = 10;
  const kept = new Float64Array(seen);
  const rng = new Rng(2024);
  for (let t = 0; t < trials; t++) {
    const buf = new ReplayBuffer(size, 'reservoir', rng.derive(`t${t}`));
    for (let i = 0; i < seen; i += 20) buf.add(items(i, 20), 0);
    for (const v of buf.all()!.x) kept[v] = (kept[v] as number) + 1;
  }
  const p = size / seen;
  const sd = Math.sqrt((p * (1 - p)) / trials);
  let chi2 = 0;
  for (const k of kept) {
    assert.ok(Math.abs(k / trials - p) < 5 * sd, `inclusion ${k / trials} vs ${p}`);
    chi2 += (k - trials * p) ** 2 / (trials * p * (1 - p));
  }
  // χ² with ~99 degrees of freedom: mean 99, sd 14
  assert.ok(chi2 < 99 + 5 * 14, `chi2 ${chi2}`);
});

test('the class-balanced buffer stays balanced on an imbalanced stream', () => {
  const buf = new ReplayBuffer(60, 'class-balanced', new Rng(3));
  // 500 of class 0, then 100 of class 1, then 50 of class 2, interleaved a little
  buf.add(
    items(0, 500, () => 0),
    0,
  );
  buf.add(
    items(500, 100, () => 1),
    1,
  );
  buf.add(
    items(600, 50, () => 2),
    2,
  );
  const counts = [...buf.classCounts().values()];
  assert.equal(buf.size, 60);
  assert.deepEqual(counts.sort(), [20, 20, 20]);
  const greedy = new ReplayBuffer(60, 'greedy', new Rng(3));
  greedy.add(
    items(0, 500, () => 0),
    0,
  );
  greedy.add(
    items(500, 100, (i) => 1 + (i % 3)),
    1,
  );
  const g = [...greedy.classCounts().values()];
  assert.ok(Math.max(...g) - Math.min(...g) <= 1, `greedy counts ${g.join(', ')}`);
});

test('a buffer state round-trips exactly and the restored buffer continues identically', () => {
  const a = new ReplayBuffer(8, 'class-balanced', new Rng(9));
  a.add(
    items(0, 30, (i) => i % 3),
    0,
  );
  const b = new ReplayBuffer(8, 'class-balanced', new Rng(1));
  b.restore({ ...a.state() });
  assert.deepEqual(b.state(), a.state());
  a.add(
    items(30, 30, (i) => i % 4),
    1,
  );
  b.add(
    items(30, 30, (i) => i % 4),
    1,
  );
  assert.deepEqual(b.all(), a.all());
  assert.deepEqual(
    b.eligible((e) => e === 1),
    a.eligible((e) => e === 1),
  );
});

test('a memory of regression rows keeps each row with its targets through sampling and a state round trip', () => {
  // row i: input [i], targets [10·i, −i]
  const rows = (from: number, n: number) => ({
    ...items(from, n),
    targetValues: Float32Array.from(Array.from({ length: n }, (_, i) => [10 * (from + i), -(from + i)]).flat()),
  });
  const buf = new ReplayBuffer(6, 'reservoir', new Rng(3));
  buf.add(rows(0, 5), 0);
  buf.add(rows(5, 5), 1);
  const check = (b: ReturnType<ReplayBuffer['all']>) => {
    assert.ok(b?.targetValues);
    for (let i = 0; i < b.y.length; i++) {
      const x = b.x[i] as number;
      assert.deepEqual(Array.from(b.targetValues.subarray(2 * i, 2 * i + 2)), [10 * x, -x]);
    }
  };
  check(buf.all());
  check(buf.sample(4, new Rng(9)));
  const copy = new ReplayBuffer(6, 'reservoir', new Rng(0));
  copy.restore(buf.state());
  check(copy.all());
  assert.deepEqual(Array.from(copy.all()?.targetValues ?? []), Array.from(buf.all()?.targetValues ?? []));
});
