import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrequentialAccuracy, type PrequentialSnapshot } from './prequential.js';
import type { JsonValue } from '../plugin-api/serialized-state.js';

const close = (actual: number, expected: number, msg: string): void => {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg}: expected ${expected}, got ${actual}`);
};

// Fixed sequence of test-then-train outcomes, window 2, fading 0.5. Expected values by hand:
//   cumulative  1/1, 1/2, 2/3, 3/4, 3/5, 4/6
//   window 2    1,   1/2, 1/2, 1,   1/2, 1/2
//   fading S    1, 0.5, 1.25, 1.625, 0.8125, 1.40625
//   fading N    1, 1.5, 1.75, 1.875, 1.9375, 1.96875
const sequence = [1, 0, 1, 1, 0, 1];
const expected = {
  accuracy: [1, 1 / 2, 2 / 3, 3 / 4, 3 / 5, 4 / 6],
  windowAccuracy: [1, 0.5, 0.5, 1, 0.5, 0.5],
  fadingAccuracy: [1, 0.5 / 1.5, 1.25 / 1.75, 1.625 / 1.875, 0.8125 / 1.9375, 1.40625 / 1.96875],
};

test('cumulative, sliding-window and fading-factor accuracy follow the hand-computed sequence', () => {
  const p = new PrequentialAccuracy({ window: 2, fading: 0.5 });
  sequence.forEach((c, i) => {
    p.add(c === 1);
    const s = p.snapshot();
    assert.equal(s.samples, i + 1);
    close(s.accuracy, expected.accuracy[i] ?? NaN, `accuracy at ${i}`);
    close(s.windowAccuracy, expected.windowAccuracy[i] ?? NaN, `window accuracy at ${i}`);
    close(s.fadingAccuracy, expected.fadingAccuracy[i] ?? NaN, `fading accuracy at ${i}`);
  });
});

test('a fading factor of 1 equals the cumulative accuracy', () => {
  const p = new PrequentialAccuracy({ window: 3, fading: 1 });
  const s = p.addBatch(sequence);
  close(s.fadingAccuracy, 4 / 6, 'fading');
  close(s.accuracy, 4 / 6, 'cumulative');
  close(s.windowAccuracy, 2 / 3, 'window of the last three: 1,0,1');
});

test('losses are averaged cumulatively and over the window', () => {
  const p = new PrequentialAccuracy({ window: 2, fading: 0.9 });
  const s = p.addBatch([true, false, true], [0.5, 2, 1]);
  close(s.loss, 3.5 / 3, 'cumulative loss');
  close(s.windowLoss, 1.5, 'window loss');
});

test('before any sample every figure is 0', () => {
  const s = new PrequentialAccuracy({ window: 5, fading: 0.99 }).snapshot();
  assert.deepEqual(s, { samples: 0, accuracy: 0, windowAccuracy: 0, fadingAccuracy: 0, loss: 0, windowLoss: 0 });
});

test('state round-trips exactly and the restored accumulator continues identically', () => {
  const a = new PrequentialAccuracy({ window: 4, fading: 0.7 });
  a.addBatch([1, 1, 0, 1, 0, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  const b = new PrequentialAccuracy({ window: 4, fading: 0.7 });
  const saved = a.state();
  b.restore({
    meta: JSON.parse(JSON.stringify(saved.meta)) as JsonValue,
    ...(saved.arrays ? { arrays: saved.arrays } : {}),
  });
  const next: number[] = [1, 0, 1];
  const sa: PrequentialSnapshot = a.addBatch(next, [0.9, 0.8, 0.7]);
  const sb: PrequentialSnapshot = b.addBatch(next, [0.9, 0.8, 0.7]);
  assert.deepEqual(sb, sa);
  close(sa.windowAccuracy, 3 / 4, 'window after restore: last four are 1,1,0,1');
});

test('bad options and mismatched states are rejected with clear messages', () => {
  assert.throws(() => new PrequentialAccuracy({ window: 0, fading: 0.5 }), /window must be a positive integer/);
  assert.throws(() => new PrequentialAccuracy({ window: 10, fading: 0 }), /fading factor must be in \(0, 1\]/);
  const state = new PrequentialAccuracy({ window: 3, fading: 0.5 }).state();
  assert.throws(() => new PrequentialAccuracy({ window: 4, fading: 0.5 }).restore(state), /taken with window 3/);
  assert.throws(
    () => new PrequentialAccuracy({ window: 2, fading: 0.5 }).addBatch([1, 0], [0.1]),
    /2 predictions but 1 losses/,
  );
});
