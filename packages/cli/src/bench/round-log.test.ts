import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Quietness } from './quietness.js';
import { RoundLog } from './round-log.js';

/** A measurer that reports the given quietness for successive rounds (others' cores per round). */
function scripted(
  others: readonly number[],
): <T>(fn: () => Promise<T>) => Promise<{ result: T; quietness: Quietness | undefined }> {
  let i = 0;
  return async (fn) => {
    const othersCores = others[i++] ?? 0;
    const result = await fn();
    return {
      result,
      quietness: { othersCores, ownCores: 1, ticks: 100, load1Start: 1, load1End: 1.5, quiet: othersCores <= 0.1 },
    };
  };
}

test('medians and per-round ratios come from the quiet rounds only when some rounds were quiet', async () => {
  const log = new RoundLog('mlp', scripted([0.02, 1.5, 0.08, 0.9]));
  // Busy rounds flatter the engine (PyTorch collapses under contention): they must not count.
  const rounds = [
    { engine: 100, torch: 100 },
    { engine: 90, torch: 20 },
    { engine: 110, torch: 100 },
    { engine: 95, torch: 30 },
  ];
  for (const r of rounds) {
    await log.round(async (record) => {
      record('engine', r.engine);
      record('torch', r.torch);
    });
  }
  assert.equal(log.value('engine'), 105);
  assert.ok(Math.abs(log.ratio('engine', 'torch') - 1.05) < 1e-12); // rounds 0 and 2: 1.00 and 1.10
  assert.deepEqual(log.counts, { rounds: 4, quiet: 2 });
  assert.deepEqual(
    log.quietness.map((q) => [q.round, q.othersCores, q.quiet]),
    [
      [0, 0.02, true],
      [1, 1.5, false],
      [2, 0.08, true],
      [3, 0.9, false],
    ],
  );
  assert.ok(Number.isNaN(log.value('never-recorded')));
});

test('with no quiet round the medians use every round, and a round without /proc counts as not quiet', async () => {
  const noProc = new RoundLog('online batch 1', async (fn) => ({ result: await fn(), quietness: undefined }));
  for (const v of [3, 1, 2]) await noProc.round(async (record) => record('p50', v));
  assert.equal(noProc.value('p50'), 2);
  assert.deepEqual(noProc.counts, { rounds: 3, quiet: 0 });
  assert.equal(noProc.quietness[0]?.othersCores, null);
});
