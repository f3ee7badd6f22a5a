import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrequentialAccuracy } from './prequential.js';

const close = (a: number | undefined, b: number, what: string): void =>
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('prequential MAE and RMSE (cumulative, window, fading) of a regression stream equal the hand-computed values', () => {
  const p = new PrequentialAccuracy({ window: 2, fading: 0.5 });
  assert.equal(p.snapshot().errors, undefined, 'no error figures before a regression sample');
  // absolute errors 1, 0, 2 (squared 1, 0, 4)
  const e = p.addErrors([1, 2, 3], [0, 2, 5], 3);
  close(e.mae, 1, 'MAE');
  close(e.rmse, Math.sqrt(5 / 3), 'RMSE');
  close(e.windowMae, 1, 'window MAE over the last two');
  close(e.windowRmse, Math.sqrt(2), 'window RMSE');
  // S = 1 → 0.5 → 2.25, N = 1 → 1.5 → 1.75
  close(e.fadingMae, 2.25 / 1.75, 'fading MAE');
  // two targets per sample: the sample's error is the mean over them, |1−0| and |1−3| → 1.5
  const two = new PrequentialAccuracy({ window: 4, fading: 1 }).addErrors([1, 1], [0, 3], 1);
  close(two.mae, 1.5, 'MAE of a two-target sample');
  close(two.rmse, Math.sqrt(2.5), 'RMSE of a two-target sample');
  assert.throws(() => p.addErrors([1, 2], [1], 1), /2 outputs for 1 targets/);
});

test('the prequential state carries the error figures bit-exactly, and a state without them restores as before', () => {
  const a = new PrequentialAccuracy({ window: 3, fading: 0.9 });
  const outputs = [0.1, -0.7, 2.5, 1 / 3, 0.2];
  const targets = [0.3, 0.4, 2, -1 / 7, 0.25];
  a.addErrors(outputs, targets, 5);
  a.addBatch(new Uint8Array(5), Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]));
  const b = new PrequentialAccuracy({ window: 3, fading: 0.9 });
  b.restore(a.state());
  assert.deepEqual(b.snapshot(), a.snapshot());
  // both continue the same way: the window ring and fading sums were restored too
  for (const q of [a, b]) q.addErrors([1.5, -2], [0.5, 0.125], 2);
  assert.deepEqual(b.snapshot().errors, a.snapshot().errors);

  const classification = new PrequentialAccuracy({ window: 3, fading: 0.9 });
  classification.addBatch([1, 0, 1], [0.2, 0.9, 0.1]);
  const state = classification.state();
  assert.equal((state.meta as Record<string, unknown>)['errors'], undefined);
  assert.deepEqual(Object.keys(state.arrays ?? {}).sort(), ['correct', 'loss']);
  const restored = new PrequentialAccuracy({ window: 3, fading: 0.9 });
  restored.restore(state);
  assert.deepEqual(restored.snapshot(), classification.snapshot());
  assert.equal(restored.snapshot().errors, undefined);
});
