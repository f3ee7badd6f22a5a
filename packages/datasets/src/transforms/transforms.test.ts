import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Batch, type Experience, type StreamInfo } from '@engram/core';
import { IndexedBatchSource } from '../data/indexed-batch-source.js';
import { AugmentTransform } from './augment.transform.js';
import { NormalizeTransform } from './normalize.transform.js';
import { OneHotTransform, ReshapeTransform, ScaleTransform } from './shape.transforms.js';

const info: StreamInfo = { inputShape: [2], numClasses: 3, experiences: 2, scenario: 'test' };

function experience(index: number, values: number[][]): Experience {
  const x = Float32Array.from(values.flat());
  const set = { x, y: new Int32Array(values.length), sampleShape: [2] };
  return { index, classes: [0], train: new IndexedBatchSource(set, Int32Array.from(values.map((_, i) => i))) };
}
const batch = (x: number[], sampleShape: number[] = [2], y?: number[]): Batch => ({
  x: Float32Array.from(x),
  y: Int32Array.from(y ?? new Array(x.length / sampleShape.reduce((a, b) => a * b, 1)).fill(0)),
  sampleShape,
});

test('normalize fits per-feature mean and std on the first experience only', async () => {
  const t = new NormalizeTransform({ per: 'feature', fitSamples: 10000, epsilon: 0 });
  await t.beforeExperience(
    experience(0, [
      [1, 10],
      [3, 30],
    ]),
  );
  await t.beforeExperience(
    experience(1, [
      [100, 100],
      [300, 300],
    ]),
  );
  const stats = t.statistics();
  assert.deepEqual([...(stats?.mean ?? [])], [2, 20]);
  assert.deepEqual([...(stats?.std ?? [])], [1, 10]);
  const out = t.apply(batch([3, 0]), 'test');
  assert.deepEqual([...out.x], [1, -2]);
});

test('normalize with given statistics uses them, and its fitted state round-trips', async () => {
  const given = new NormalizeTransform({ mean: 0.5, std: 0.25, per: 'channel', fitSamples: 10, epsilon: 0 });
  assert.deepEqual([...given.apply(batch([1, 0]), 'train').x], [2, -2]);
  const fitted = new NormalizeTransform({ per: 'global', fitSamples: 10000, epsilon: 0 });
  await fitted.beforeExperience(
    experience(0, [
      [0, 2],
      [4, 6],
    ]),
  );
  const copy = new NormalizeTransform({ per: 'global', fitSamples: 10000, epsilon: 0 });
  copy.restore(fitted.state());
  assert.deepEqual([...copy.apply(batch([3, 5]), 'test').x], [...fitted.apply(batch([3, 5]), 'test').x]);
  assert.throws(
    () => new NormalizeTransform({ mean: 1, per: 'global', fitSamples: 1, epsilon: 0 }),
    /both mean and std/,
  );
});

test('normalize on a live stream fits on the first training batch and leaves earlier test batches alone', () => {
  const t = new NormalizeTransform({ per: 'global', fitSamples: 10000, epsilon: 0 });
  assert.deepEqual([...t.apply(batch([5, 7]), 'test').x], [5, 7]);
  t.apply(batch([1, 3]), 'train');
  assert.deepEqual([...t.apply(batch([2, 4]), 'test').x], [0, 2]);
});

test('scale, reshape and one-hot transform values, shapes and targets', () => {
  assert.deepEqual([...new ScaleTransform({ factor: 2, offset: -1 }).apply(batch([0, 0.5])).x], [-1, 0]);
  const r = new ReshapeTransform({ shape: [-1, 2, 1] });
  assert.deepEqual(r.outputShape([6]), [3, 2, 1]);
  assert.deepEqual(r.apply(batch([1, 2, 3, 4, 5, 6], [6])).sampleShape, [3, 2, 1]);
  assert.throws(() => new ReshapeTransform({ shape: [4, -1] }).outputShape([6]), /cannot take shape/);
  const o = new OneHotTransform({ smoothing: 0.3 });
  o.outputShape([2], info);
  const out = o.apply(batch([0, 0, 0, 0], [2], [2, 0]));
  assert.deepEqual(
    [...(out.targets ?? [])].map((v) => Math.round(v * 1000) / 1000),
    [0.1, 0.1, 0.8, 0.8, 0.1, 0.1],
  );
  assert.deepEqual([...out.y], [2, 0]);
});

test('augment touches training batches only, is seeded, and flips or shifts pixels exactly', () => {
  const img = batch([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1]);
  const flip = new AugmentTransform({ shift: 0, flip: true, noise: 0 }, new Rng(1));
  assert.equal(flip.apply(img, 'test'), img);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) seen.add(flip.apply(img, 'train').x.join(','));
  assert.deepEqual([...seen].sort(), ['1,2,3,4,5,6,7,8,9', '3,2,1,6,5,4,9,8,7']);
  const shift = new AugmentTransform({ shift: 1, flip: false, noise: 0 }, new Rng(2));
  const translations = new Set<string>();
  for (let dy = -1; dy <= 1; dy++)
    for (let dx = -1; dx <= 1; dx++) {
      const t: number[] = [];
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 3; c++)
          t.push(r - dy >= 0 && r - dy < 3 && c - dx >= 0 && c - dx < 3 ? (r - dy) * 3 + (c - dx) + 1 : 0);
      translations.add(t.join(','));
    }
  const shifted = new Set<string>();
  for (let i = 0; i < 40; i++) shifted.add(shift.apply(img, 'train').x.join(','));
  for (const x of shifted) assert.ok(translations.has(x), `${x} is not a 1-pixel translation`);
  assert.ok(shifted.size >= 5, `only ${shifted.size} distinct shifts in 40 draws`);
  const a = new AugmentTransform({ shift: 1, flip: true, noise: 0.1 }, new Rng(7));
  const b = new AugmentTransform({ shift: 1, flip: true, noise: 0.1 }, new Rng(7));
  assert.deepEqual([...a.apply(img, 'train').x], [...b.apply(img, 'train').x]);
  const resumed = new AugmentTransform({ shift: 1, flip: true, noise: 0.1 }, new Rng(99));
  resumed.restore(a.state());
  assert.deepEqual([...resumed.apply(img, 'train').x], [...a.apply(img, 'train').x]);
  assert.throws(
    () => new AugmentTransform({ shift: 1, flip: false, noise: 0 }, new Rng(1)).outputShape([5]),
    /images are needed/,
  );
});
