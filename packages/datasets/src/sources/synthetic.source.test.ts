import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type DataSource } from '@engram/core';
import { build, experiencesOf, pass, testServices } from '../testing/support.js';
import { BlobStream, syntheticDescriptor, syntheticData, type SyntheticOptions } from './synthetic.source.js';

const base: SyntheticOptions = {
  numClasses: 4,
  features: 3,
  samplesPerClass: 50,
  separation: 6,
  spread: 0.5,
  testFraction: 0.2,
  scenario: { type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false },
  endless: false,
  drift: 'none',
  driftEvery: 100,
  driftMagnitude: 2,
  buffer: 64,
  policy: 'block',
};

test('synthetic blobs are a pure function of the seed and sit around their class centres', () => {
  const a = syntheticData(base, new Rng(5));
  const b = syntheticData(base, new Rng(5));
  const c = syntheticData(base, new Rng(6));
  assert.deepEqual([...a.train.x], [...b.train.x]);
  assert.notDeepEqual([...a.train.x], [...c.train.x]);
  // The within-class spread is the configured 0.5: the std of feature 0 of class 0 is close to it.
  const f0 = Array.from({ length: 50 }, (_, i) => a.train.x[i * 3] as number);
  const mean = f0.reduce((s, v) => s + v, 0) / 50;
  const std = Math.sqrt(f0.reduce((s, v) => s + (v - mean) ** 2, 0) / 50);
  assert.ok(std > 0.35 && std < 0.65, `std ${std}`);
});

test('the finite synthetic source feeds scenario builders: 2 experiences of 2 classes, 40 + 10 samples per class', async () => {
  const source = build<DataSource>(syntheticDescriptor, base, testServices(2));
  const info = await source.describe();
  assert.deepEqual(info.inputShape, [3]);
  const exps = await experiencesOf(source);
  assert.deepEqual(
    exps.map((e) => [e.classes, e.train.size, e.test?.size]),
    [
      [[0, 1], 80, 20],
      [[2, 3], 80, 20],
    ],
  );
  const labels = (await pass(exps[1]?.train, 100)).flatMap((b) => [...b.y]);
  assert.deepEqual([...new Set(labels)].sort(), [2, 3]);
});

test('abrupt drift redraws the class centres every driftEvery samples; gradual drift moves them steadily', () => {
  const meanOfClass0 = (s: BlobStream, n: number): number => {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const { x, y } = s.next();
      if (y === 0) {
        sum += x[0] as number;
        count++;
      }
    }
    return sum / count;
  };
  const abrupt = new BlobStream({ ...base, drift: 'abrupt', driftEvery: 400 }, new Rng(1));
  const before = meanOfClass0(abrupt, 400);
  const after = meanOfClass0(abrupt, 400);
  assert.ok(Math.abs(after - before) > 0.5, `centre moved ${Math.abs(after - before)}`);
  const none = new BlobStream({ ...base, drift: 'none' }, new Rng(1));
  assert.ok(Math.abs(meanOfClass0(none, 400) - meanOfClass0(none, 400)) < 0.3);
  const gradual = new BlobStream({ ...base, drift: 'gradual', driftEvery: 100, driftMagnitude: 1 }, new Rng(1));
  const g1 = meanOfClass0(gradual, 400);
  const g2 = meanOfClass0(gradual, 400);
  const g3 = meanOfClass0(gradual, 400);
  assert.ok(Math.abs(g2 - g1 - (g3 - g2)) < 0.5 && Math.abs(g2 - g1) > 0.5, `steps ${g2 - g1}, ${g3 - g2}`);
});
