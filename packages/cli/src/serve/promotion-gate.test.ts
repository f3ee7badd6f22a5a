import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GateSamples, memorySlice } from './gate-samples.js';
import { ModelVersion, snapshotWeights } from './model-version.js';
import { judge } from './promotion-gate.js';
import { VersionBoard } from './version-board.js';
import type { VersionDecision } from './version-history.js';

/** A linear 2-class model: `right` answers arg-max of the inputs, else arg-min; `nan` poisons a weight. */
async function version(v: number, right: boolean, nan = false): Promise<ModelVersion> {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [2], units: 2, useBias: false }));
  const k = right ? [1, 0, 0, 1] : [0, 1, 1, 0];
  if (nan) k[0] = Number.NaN;
  const w = tf.tensor2d(k, [2, 2]);
  m.setWeights([w]);
  w.dispose();
  const snap = snapshotWeights(m, { version: v, step: v * 10, experience: 0 });
  m.dispose();
  return ModelVersion.fromSnapshot(snap);
}

/** 10 held-out samples; `flip` of them are labelled the other way (so a right model scores 1 − flip/10). */
function samples(flip: number): GateSamples {
  const s = new GateSamples(50);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 10; i++) {
    const c = i % 2;
    x.push(c === 0 ? 2 : 0.5, c === 0 ? 0.5 : 2);
    y.push(i < flip ? 1 - c : c);
  }
  s.holdOut({ experience: 0, x: Float32Array.from(x), y: Int32Array.from(y), sampleShape: [2] });
  return s;
}

const SETTINGS = { maxForgetting: 5, heldOut: 10, finite: true };

test('a version that forgets more than maxForgetting points of a held-out slice is refused with its figures; finite outputs are checked', async () => {
  const before = tf.memory().numTensors;
  const good = await version(1, true);
  const bad = await version(2, false);
  const poisoned = await version(3, true, true);
  try {
    const s = samples(1); // the right model scores 0.9, the wrong one 0.1
    const refused = judge(bad, good, s, SETTINGS, [2]);
    assert.equal(refused.passed, false);
    assert.equal(refused.failed?.name, 'forgetting');
    assert.equal(refused.failed?.served, 0.9);
    assert.equal(refused.failed?.candidate, 0.1);
    assert.ok(Math.abs((refused.failed?.limit ?? 0) - 0.85) < 1e-9);
    assert.match(
      refused.message,
      /experience 0 \(10 samples\) the new version scores 10\.0% against the served 90\.0%/,
    );
    const same = await version(4, true);
    assert.equal(judge(same, good, s, SETTINGS, [2]).passed, true, 'an equally good version passes');
    same.dispose();
    // The served version as the new one: it passes against the wrong one only because that is worse...
    assert.equal(judge(good, bad, s, SETTINGS, [2]).passed, true);
    // ...and forgetting is measured from the best served accuracy (0.9 above), not from the wrong one (0.1).
    assert.equal(judge(bad, bad, s, SETTINGS, [2]).failed?.best, 0.9);
    const nan = judge(poisoned, good, s, { heldOut: 10, finite: true }, [2]);
    assert.equal(nan.failed?.name, 'finite');
    assert.ok((nan.failed?.nonFinite ?? 0) > 0);
  } finally {
    for (const v of [good, bad, poisoned]) v.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('the board keeps a refused version as the latest, serves it when forced, rolls back to the previous one, and reports every decision', async () => {
  const before = tf.memory().numTensors;
  const board = new VersionBoard({ keep: 1 });
  const s = samples(0);
  board.gateWith((c, served) => judge(c, served, s, SETTINGS, [2]));
  const decisions: VersionDecision[] = [];
  board.onDecision((d) => decisions.push(d));
  assert.equal(board.offer(await version(1, true)), true);
  assert.equal(board.offer(await version(2, true)), true);
  assert.equal(board.offer(await version(3, false)), false, 'a forgetting version is refused');
  assert.equal(board.current?.info.version, 2);
  assert.equal(board.candidate?.info.version, 3);
  assert.deepEqual(board.kept(), [1, 3]);
  assert.equal(board.offer(await version(4, false)), false);
  assert.deepEqual(board.kept(), [1, 4], 'the older refused version is dropped');
  assert.equal(board.history.get(3)?.status, 'rejected');
  assert.match(board.promote(3) ?? '', /version 3 is not kept: kept versions: 1, 4/);
  assert.equal(board.promote(4), undefined);
  assert.equal(board.current?.info.version, 4);
  assert.equal(board.rollback(), undefined);
  assert.equal(board.current?.info.version, 2, 'the previous served version is back');
  assert.match(board.rollback() ?? '', /no earlier served version is kept/);
  assert.equal(board.offer(await version(5, false)), false, 'the next versions are compared with the rolled-back one');
  assert.deepEqual(
    decisions.map((d) =>
      d.type === 'version-promoted' ? `${d.version}:${d.reason}` : `${d.version}:rejected:${d.check}`,
    ),
    [
      '1:first',
      '2:gates',
      '3:rejected:forgetting',
      '4:rejected:forgetting',
      '4:forced',
      '2:rollback',
      '5:rejected:forgetting',
    ],
  );
  assert.deepEqual(board.counts, { promoted: 4, rejected: 3 });
  assert.equal(board.history.get(4)?.status, 'rolled-back');
  await board.close();
  assert.equal(tf.memory().numTensors, before, 'every version and spare network is freed');
});

/** A replay memory of 30 rows: row i is (i, 2i) labelled i % 2 ("which" row it was is readable from x). */
function memory(): { x: Float32Array; y: Int32Array; sampleShape: number[] } {
  const x = Float32Array.from({ length: 60 }, (_, k) => (k % 2 === 0 ? k / 2 : k - 1));
  const y = Int32Array.from({ length: 30 }, (_, i) => i % 2);
  return { x, y, sampleShape: [2] };
}

test('a replay-memory slice holds distinct rows of the memory with their labels, drawn the same way for the same seed', () => {
  const mem = memory();
  const a = memorySlice(mem, 10, 3, 2);
  const rows = Array.from({ length: 10 }, (_, i) => a.x[i * 2] as number);
  assert.equal(a.source, 'replay');
  assert.equal(a.experience, 2);
  assert.equal(new Set(rows).size, 10, `distinct rows: ${rows.join(',')}`);
  rows.forEach((r, i) => {
    assert.equal(a.x[i * 2 + 1], 2 * r, 'the row is copied whole');
    assert.equal(a.y[i], r % 2, 'with its own label');
  });
  assert.deepEqual(memorySlice(mem, 10, 3, 2).x, a.x, 'the same seed draws the same rows');
  const other = memorySlice(mem, 10, 4, 2);
  assert.notDeepEqual(other.x, a.x, 'another seed draws other rows');
  assert.equal(memorySlice(mem, 100, 3, 0).y.length, 30, 'a memory smaller than heldOut is taken whole');
});

test('on a stream the forgetting gate also scores the replay-memory slice, against the served version alone (it is redrawn at each publish)', async () => {
  const before = tf.memory().numTensors;
  const good = await version(1, true);
  const bad = await version(2, false);
  try {
    const s = new GateSamples(50);
    // 10 memory rows: 8 of them labelled as the right model predicts, so it scores 0.8 and the wrong one 0.2.
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 10; i++) {
      const c = i % 2;
      x.push(c === 0 ? 2 : 0.5, c === 0 ? 0.5 : 2);
      y.push(i < 2 ? 1 - c : c);
    }
    s.holdOut({ experience: 3, source: 'replay', x: Float32Array.from(x), y: Int32Array.from(y), sampleShape: [2] });
    const refused = judge(bad, good, s, SETTINGS, [2]);
    assert.equal(refused.failed?.name, 'forgetting');
    assert.equal(refused.failed?.slice, 'replay');
    assert.equal(refused.failed?.experience, undefined);
    assert.equal(refused.failed?.served, 0.8);
    assert.equal(refused.failed?.candidate, 0.2);
    assert.match(
      refused.message,
      /a seeded slice of the replay memory \(10 samples\) the new version scores 20\.0% against the served 80\.0%/,
    );
    // No best is carried over between draws: against a served version scoring 0.2, 0.2 passes.
    const same = judge(bad, bad, s, SETTINGS, [2]);
    assert.equal(same.passed, true);
    assert.equal(same.checks[0]?.best, 0.2);
    // With an experience slice too, both are checked, the experience's first.
    s.holdOut({ ...memorySlice({ x: Float32Array.from(x), y: Int32Array.from(y), sampleShape: [2] }, 10, 1, 0) });
    s.holdOut({ experience: 0, x: Float32Array.from(x), y: Int32Array.from(y).map((v) => v), sampleShape: [2] });
    assert.deepEqual(
      judge(good, good, s, SETTINGS, [2]).checks.map((c) => `${c.name}:${c.slice ?? c.experience}`),
      ['forgetting:0', 'forgetting:replay', 'finite:undefined'],
    );
  } finally {
    good.dispose();
    bad.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
