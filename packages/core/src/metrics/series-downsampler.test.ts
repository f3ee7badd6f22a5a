import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesDownsampler } from './series-downsampler.js';

test('a short series is kept point for point', () => {
  const s = new SeriesDownsampler(4);
  [3, 1, 2].forEach((y, x) => s.add(x, y));
  assert.deepEqual(s.series(), [
    { x: 0, y: 3 },
    { x: 1, y: 1 },
    { x: 2, y: 2 },
  ]);
  assert.deepEqual(s.stats(), { count: 3, first: 3, last: 2, min: 1, max: 3, mean: 2 });
});

test('a long series is merged into bucket means and stays bounded', () => {
  const s = new SeriesDownsampler(2);
  for (let x = 0; x < 8; x++) s.add(x, x);
  // maxPoints 2: after 4 points buckets merge to size 2, after 4 of those to size 4.
  assert.deepEqual(s.series(), [
    { x: 3, y: 1.5 },
    { x: 7, y: 5.5 },
  ]);
  for (let x = 8; x < 10_000; x++) s.add(x, x);
  assert.ok(s.series().length <= 4, `bounded, got ${s.series().length}`);
  assert.equal(s.stats()?.mean, 4999.5);
});

test('non-finite values are ignored', () => {
  const s = new SeriesDownsampler();
  s.add(0, Number.NaN);
  assert.equal(s.stats(), null);
  s.add(1, 0.5);
  assert.deepEqual(s.series(), [{ x: 1, y: 0.5 }]);
});
