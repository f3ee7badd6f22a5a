import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Batch } from '@engram/core';
import { ColorJitterTransform, HorizontalFlipTransform, RandomCropTransform } from './image.transforms.js';

/** Two 3x3 single-channel images holding 1..9 and 11..19, row-major. */
const batch = (): Batch => ({
  x: Float32Array.from({ length: 18 }, (_, i) => (i < 9 ? i + 1 : i + 2)),
  y: Int32Array.from([0, 1]),
  sampleShape: [3, 3, 1],
});

test('horizontal-flip with p = 1 mirrors each row, p = 0 leaves images alone, test batches pass unchanged', () => {
  const flip = new HorizontalFlipTransform({ p: 1 }, new Rng(1));
  assert.deepEqual([...flip.apply(batch(), 'train').x.subarray(0, 9)], [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  const b = batch();
  assert.equal(flip.apply(b, 'test'), b);
  const none = new HorizontalFlipTransform({ p: 0 }, new Rng(1));
  assert.equal(none.apply(b, 'train'), b);
});

test('random-crop shifts by at most padding pixels, zero-filled, and keeps every value it keeps in place', () => {
  const crop = new RandomCropTransform({ padding: 1 }, new Rng(4));
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const out = crop.apply(batch(), 'train').x.subarray(0, 9);
    // Find the shift (dy, dx) that explains the output: each kept pixel equals src[r + dy][c + dx].
    let explained = false;
    for (let dy = -1; dy <= 1 && !explained; dy++)
      for (let dx = -1; dx <= 1 && !explained; dx++) {
        let ok = true;
        for (let r = 0; r < 3; r++)
          for (let c = 0; c < 3; c++) {
            const sr = r + dy;
            const sc = c + dx;
            const want = sr < 0 || sr > 2 || sc < 0 || sc > 2 ? 0 : sr * 3 + sc + 1;
            if (out[r * 3 + c] !== want) ok = false;
          }
        if (ok) {
          explained = true;
          seen.add(`${dy},${dx}`);
        }
      }
    assert.ok(explained, `output ${[...out].join(',')} is not a padded crop`);
  }
  assert.equal(seen.size, 9, 'all nine shifts of padding 1 occur in 40 draws');
});

test('color-jitter keeps values within [0, max] and brightness scales an image by one factor in range', () => {
  const jitter = new ColorJitterTransform({ brightness: 0.5, contrast: 0, saturation: 0, max: 100 }, new Rng(2));
  const out = jitter.apply(batch(), 'train').x;
  const f0 = (out[0] as number) / 1;
  for (let i = 0; i < 9; i++) assert.ok(Math.abs((out[i] as number) - f0 * (i + 1)) < 1e-4);
  assert.ok(f0 >= 0.5 && f0 <= 1.5, `factor ${f0}`);
  const clipped = new ColorJitterTransform({ brightness: 0, contrast: 0.9, saturation: 0, max: 1 }, new Rng(2));
  for (const v of clipped.apply(batch(), 'train').x) assert.ok(v >= 0 && v <= 1);
});

test('a restored state draws exactly the augmentations the saved run drew next', () => {
  for (const make of [
    (rng: Rng) => new RandomCropTransform({ padding: 2 }, rng),
    (rng: Rng) => new HorizontalFlipTransform({ p: 0.5 }, rng),
    (rng: Rng) => new ColorJitterTransform({ brightness: 0.4, contrast: 0.4, saturation: 0.4, max: 20 }, rng),
  ]) {
    const a = make(new Rng(9));
    a.apply(batch(), 'train');
    const saved = a.state();
    const next = [...a.apply(batch(), 'train').x, ...a.apply(batch(), 'train').x];
    const b = make(new Rng(12345));
    b.restore(JSON.parse(JSON.stringify(saved)) as typeof saved);
    assert.deepEqual([...b.apply(batch(), 'train').x, ...b.apply(batch(), 'train').x], next);
  }
});
