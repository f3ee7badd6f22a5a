import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { unload, load } from '../index.js';
import { maxAbsDiff, seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';
import { quadraticPenalty, type QuadraticTerm } from './ewc-penalty.js';

function makeTerms(): { params: tf.Variable[]; terms: QuadraticTerm[] } {
  const shapes = [[30, 20], [20]];
  const params = shapes.map((s, i) =>
    tf.variable(tf.tensor(seededValues(tf.util.sizeFromShape(s), 1 + i), s), true, `ewc-test/p${i}/${Math.random()}`),
  );
  const terms = params.map((p, i) => ({
    param: p,
    anchor: tf.tensor(seededValues(p.size, 10 + i), p.shape),
    importance: tf.abs(tf.tensor(seededValues(p.size, 20 + i), p.shape)),
  }));
  return { params, terms };
}

function valueAndGrads(terms: QuadraticTerm[], params: tf.Variable[]): { value: number; grads: Float32Array[] } {
  const { value, grads } = tf.variableGrads(() => quadraticPenalty(terms, 25), params);
  const out = {
    value: value.dataSync()[0] ?? Number.NaN,
    grads: params.map((p) => Float32Array.from(grads[p.name]?.dataSync() ?? [])),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('native quadratic (EWC) penalty', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  it('matches the tfjs-ops formula in value and gradient', () => {
    const { params, terms } = makeTerms();
    const native = valueAndGrads(terms, params);
    unload();
    const ops = valueAndGrads(terms, params);
    load();
    assert.ok(Math.abs(native.value - ops.value) <= 1e-5 * Math.abs(ops.value), `${native.value} vs ${ops.value}`);
    native.grads.forEach((g, i) => assert.ok(maxAbsDiff(g, ops.grads[i] ?? new Float32Array()) < 1e-4));
    tf.dispose([...params, ...terms.flatMap((t) => [t.anchor, t.importance])]);
  });

  it('leaves no tensors behind', () => {
    const { params, terms } = makeTerms();
    valueAndGrads(terms, params);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) valueAndGrads(terms, params);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([...params, ...terms.flatMap((t) => [t.anchor, t.importance])]);
  });
});
