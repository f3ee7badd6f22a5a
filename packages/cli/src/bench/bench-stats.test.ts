import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanRate, median, percentile, quietMedian } from './bench-stats.js';

test('percentile is nearest-rank: p50 and p99 of 1..100 are 50 and 99, p100 is the maximum', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile(xs, 1), 1);
});

test('p99 of a short list with one outlier is the outlier, p50 is not', () => {
  const xs = [1, 1.2, 0.9, 1.1, 40];
  assert.equal(percentile(xs, 99), 40);
  assert.equal(percentile(xs, 50), 1.1);
});

test('percentile ignores NaN, is NaN for no values, and refuses a p outside (0, 100]', () => {
  assert.equal(percentile([NaN, 3, NaN, 1, 2], 50), 2);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 0), /percentile must be in/);
  assert.throws(() => percentile([1], 101), /percentile must be in/);
});

test('median averages the two middle values of an even count', () => {
  assert.equal(median([4, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([NaN])));
});

test('quietMedian uses only quiet rounds when there are any, else all rounds', () => {
  const some = quietMedian([
    { value: 10, quiet: true },
    { value: 1, quiet: false },
    { value: 12, quiet: true },
    { value: 2, quiet: false },
    { value: 11, quiet: true },
  ]);
  assert.deepEqual(some, { value: 11, rounds: 3, quietOnly: true });
  const none = quietMedian([
    { value: 1, quiet: false },
    { value: 3, quiet: false },
  ]);
  assert.deepEqual(none, { value: 2, rounds: 2, quietOnly: false });
});

test('meanRate of two equal-length runs is total work over total time: 100 and 300 samples/s give 150', () => {
  assert.equal(meanRate(100, 300), 150);
  assert.equal(meanRate(250, 250), 250);
});
