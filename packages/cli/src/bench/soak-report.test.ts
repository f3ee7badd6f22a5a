import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthPerProcess, type Minute } from './soak-report.js';

const minute = (m: number, rssMb: number): Minute => ({
  minute: m,
  requests: 100,
  errors: 0,
  p50Ms: 1,
  p99Ms: 2,
  produced: 100,
  rssMb,
  tensors: {},
  heapMb: {},
  trained: 100 * m,
});

test('RSS growth is measured within each process, from its second minute, leaving out the minute of a kill', () => {
  // Process 1 grows 100 → 120 after settling; the restart at second 250 (minute 5) drops RSS, process 2 is flat.
  const rows = [
    minute(1, 300),
    minute(2, 100),
    minute(3, 110),
    minute(4, 120),
    minute(5, 500),
    minute(6, 60),
    minute(7, 80),
    minute(8, 80),
    minute(9, 80),
  ];
  const growth = growthPerProcess(rows, [5]);
  assert.deepEqual(
    growth.map((g) => [g.fromMinute, g.toMinute]),
    [
      [2, 4],
      [7, 9],
    ],
  );
  assert.ok(Math.abs((growth[0]?.growth ?? NaN) - 0.2) < 1e-12);
  assert.equal(growth[1]?.growth, 0);
  // Measured across the restart the same rows would show shrinkage (80 vs 100) and hide process 1's growth.
  assert.deepEqual(
    growthPerProcess(rows, []).map((g) => g.growth),
    [(80 - 100) / 100],
  );
});

test('a process that lived fewer than three minutes gives no growth figure', () => {
  assert.deepEqual(growthPerProcess([minute(1, 10), minute(2, 20), minute(3, 99), minute(4, 30)], [3]), []);
});
