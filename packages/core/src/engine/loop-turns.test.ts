import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngramEvent, EvaluationResult } from '../events/engram-event.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { runPipeline } from './engine.js';
import { LoopTurns } from '../run/loop-turns.js';

/** One evaluation of a run: its results and the event-loop turns counted between its start and its event. */
interface Observed {
  readonly results: EvaluationResult[];
  readonly turns: number;
}

/**
 * Runs `doc` while a `setImmediate` chain counts event-loop turns (one per turn), and returns each
 * evaluation with the turns seen since the event that starts it (`run-start` for the initial one,
 * `experience-end` for the others): no I/O happens in between, so only the run's own turns let the
 * counter move.
 */
async function observe(doc: Record<string, unknown>, yieldEveryMs: number | undefined): Promise<Observed[]> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-turns-'));
  let ticks = 0;
  let counting = true;
  const tick = (): void => {
    ticks++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const observed: Observed[] = [];
  let since = 0;
  try {
    await runPipeline(await loadFixture(doc), {
      outDir: dir,
      ...(yieldEveryMs !== undefined ? { yieldEveryMs } : {}),
      observe: (events$) =>
        events$.subscribe((e: EngramEvent) => {
          if (e.type === 'run-start' || e.type === 'experience-end') since = ticks;
          if (e.type === 'evaluation') observed.push({ results: e.results, turns: ticks - since });
        }),
    });
  } finally {
    counting = false;
    rmSync(dir, { recursive: true, force: true });
  }
  return observed;
}

/** Pieces a serving run evaluates in: at most `rows` samples each, per test set. */
const pieces = (results: readonly EvaluationResult[], rows: number): number =>
  results.reduce((n, r) => n + Math.ceil(r.count / rows), 0);

test(
  'a serving run turns the event loop between evaluation pieces of at most a training batch, and evaluates ' +
    'exactly as a run in one piece',
  async () => {
    const batchSize = 8;
    const doc = fixtureDocument({
      training: { epochs: 1, batchSize },
      evaluation: { on: 'all', initial: true, batchSize: 1000 },
    });
    const whole = await observe(doc, undefined);
    const served = await observe(doc, 0);
    assert.equal(served.length, 3, 'initial evaluation and one per experience');
    assert.deepEqual(
      served.map((o) => o.results),
      whole.map((o) => o.results),
      'same accuracy, loss, per-class counts and confusion',
    );
    for (const [i, o] of served.entries()) {
      const n = pieces(o.results, batchSize);
      assert.ok(n >= 6, `evaluation ${i} has several pieces (${n})`);
      assert.ok(o.turns >= n, `evaluation ${i}: ${o.turns} turns of the event loop for ${n} pieces`);
      assert.ok(
        (whole[i]?.turns ?? Infinity) < n,
        `without yieldEveryMs the evaluation holds the loop (${whole[i]?.turns} turns)`,
      );
    }
  },
);

test('LoopTurns turns only once its interval has passed', async () => {
  const never = new LoopTurns(60_000, 8);
  await never.breathe();
  await never.breathe();
  assert.equal(never.taken, 0);
  const always = new LoopTurns(0, 8);
  await always.breathe();
  await always.breathe();
  assert.equal(always.taken, 2);
});
