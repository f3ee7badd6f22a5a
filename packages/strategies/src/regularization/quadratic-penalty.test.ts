import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PenaltyCache } from './quadratic-penalty.js';

await tf.setBackend('cpu');

/** A variable of ones (the initial tensor released). */
const ones = (shape: number[]): tf.Variable => tf.tidy(() => tf.variable(tf.ones(shape)));

test('the penalty cache reuses a penalty until a variable, a stored tensor or the scale changes, and never one with a grown head', () => {
  const before = tf.memory().numTensors;
  const k = ones([2, 2]);
  const b = ones([2]);
  const stores = [
    {
      importance: new Map<string, tf.Tensor>([
        ['#0', tf.ones([2, 2])],
        ['#1', tf.ones([2])],
      ]),
      anchor: new Map<string, tf.Tensor>([
        ['#0', tf.zeros([2, 2])],
        ['#1', tf.zeros([2])],
      ]),
    },
  ];
  const cache = new PenaltyCache();
  const first = cache.penalty([k, b], stores, 0.5);
  assert.ok(first);
  assert.equal(first.terms.length, 2);
  assert.equal(cache.penalty([k, b], stores, 0.5), first, 'nothing changed: the same penalty');
  assert.notEqual(cache.penalty([k, b], stores, 0.25), first, 'another scale');
  const again = cache.penalty([k, b], stores, 0.25);
  const old = stores[0]!.importance.get('#1')!;
  stores[0]!.importance.set('#1', tf.fill([2], 3));
  old.dispose();
  const rebuilt = cache.penalty([k, b], stores, 0.25);
  assert.notEqual(rebuilt, again, 'a replaced importance tensor');
  assert.equal(rebuilt?.terms[1]?.importance, stores[0]!.importance.get('#1'));
  const k2 = ones([2, 2]);
  assert.notEqual(cache.penalty([k2, b], stores, 0.25), rebuilt, 'another variable');
  // A grown head (kernel [2, 3] over an anchor [2, 2]) is sliced on the tape: built anew every call.
  const grown = ones([2, 3]);
  tf.tidy(() => {
    const p1 = cache.penalty([grown, b], stores, 0.25);
    const p2 = cache.penalty([grown, b], stores, 0.25);
    assert.ok(p1 && p2);
    assert.notEqual(p1, p2);
  });
  assert.equal(cache.penalty([k, b], [], 0.25), undefined, 'no stores: no penalty');
  tf.dispose([k, b, k2, grown, ...stores[0]!.importance.values(), ...stores[0]!.anchor.values()]);
  assert.equal(tf.memory().numTensors, before);
});
