import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@engram/core';
import { PageHinkleyDetector } from './page-hinkley.detector.js';
import { AdwinDetector } from './adwin.detector.js';
import { EveryNDetector } from './every-n.detector.js';

/** 1,000 losses around 0.2, then 1,000 around 2.0 (noise ±0.1). */
function stream(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 0.2 : 2.0) + (rng.next() - 0.5) * 0.2);
}

function detections(update: (xs: Float32Array) => boolean, xs: Float32Array, batch = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i += batch) if (update(xs.subarray(i, i + batch))) out.push(i);
  return out;
}

test('page-hinkley signals a loss increase within a few dozen samples and not before it', () => {
  const ph = new PageHinkleyDetector({ minInstances: 30, delta: 0.005, threshold: 50, alpha: 0.9999, mode: 'up' });
  const hits = detections((xs) => ph.update(xs), stream(1));
  assert.ok(hits.length >= 1);
  assert.ok(hits[0]! >= 1000 && hits[0]! < 1060, `first detection at ${hits[0]}`);
  const down = new PageHinkleyDetector({ minInstances: 30, delta: 0.005, threshold: 50, alpha: 0.9999, mode: 'up' });
  const falling = Float32Array.from(stream(2)).reverse();
  assert.deepEqual(
    detections((xs) => down.update(xs), falling),
    [],
    'a loss decrease is not a boundary in mode "up"',
  );
});

test('adwin detects the change in mean of the prequential loss and stays quiet on a stationary stream', () => {
  const opts = {
    delta: 0.002,
    clock: 32,
    maxBuckets: 5,
    minWindowLength: 5,
    gracePeriod: 10,
    direction: 'increase' as const,
  };
  const adwin = new AdwinDetector(opts);
  const hits = detections((xs) => adwin.update(xs), stream(3));
  assert.ok(hits.length >= 1 && hits[0]! >= 1000 && hits[0]! < 1100, `detections ${hits.slice(0, 5).join(', ')}`);
  assert.ok(adwin.windowLength < 1100, 'the old part of the window was dropped');
  assert.ok(Math.abs(adwin.estimation - 2) < 0.1);
  const quiet = new AdwinDetector(opts);
  const rng = new Rng(4);
  const flat = Float32Array.from({ length: 3000 }, () => 0.5 + (rng.next() - 0.5) * 0.2);
  assert.deepEqual(
    detections((xs) => quiet.update(xs), flat, 8),
    [],
  );
  assert.ok(quiet.windowLength === 3000);
});

test('every-n signals a boundary each time N more samples were seen, across batch sizes', () => {
  const d = new EveryNDetector({ samples: 100 });
  const hits = detections((xs) => d.update(xs), new Float32Array(1000), 30);
  assert.deepEqual(hits, [90, 180, 270, 390, 480, 570, 690, 780, 870, 990]);
});

test('detector states round-trip exactly and restored detectors continue identically', () => {
  const xs = stream(5);
  const make = [
    () => new PageHinkleyDetector({ minInstances: 30, delta: 0.005, threshold: 50, alpha: 0.9999, mode: 'both' }),
    () =>
      new AdwinDetector({
        delta: 0.002,
        clock: 32,
        maxBuckets: 5,
        minWindowLength: 5,
        gracePeriod: 10,
        direction: 'any',
      }),
    () => new EveryNDetector({ samples: 77 }),
  ];
  for (const f of make) {
    const a = f();
    a.update(xs.subarray(0, 1010));
    const b = f();
    b.restore(JSON.parse(JSON.stringify(a.state())) as ReturnType<typeof a.state>);
    assert.deepEqual(b.state(), a.state());
    assert.deepEqual(
      detections((x) => b.update(x), xs.subarray(1010)),
      detections((x) => a.update(x), xs.subarray(1010)),
    );
  }
});
