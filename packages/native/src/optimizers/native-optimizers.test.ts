import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { accelerateOptimizer, load, unload } from '../index.js';
import { seededValues, useWasmNative, skipNative } from '../testing/backend-harness.js';

let run = 0;

/** Runs `steps` updates of a fresh optimizer on two variables; returns weights and optimizer state. */
async function runOptimizer(make: () => tf.Optimizer, steps: number): Promise<number[][]> {
  const id = run++;
  const vars = tf.tidy(() => [
    tf.variable(tf.tensor(seededValues(40, 1), [8, 5]), true, `opt${id}/w`),
    tf.variable(tf.tensor(seededValues(5, 2)), true, `opt${id}/b`),
  ]);
  const opt = accelerateOptimizer(make());
  for (let s = 0; s < steps; s++) {
    const grads = tf.tidy(() => ({
      [`opt${id}/w`]: tf.tensor(seededValues(40, 10 + s), [8, 5]),
      [`opt${id}/b`]: tf.tensor(seededValues(5, 100 + s)),
    }));
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const state = await opt.getWeights();
  const out = [...vars.map((v) => Array.from(v.dataSync())), ...state.map((w) => Array.from(w.tensor.dataSync()))];
  tf.dispose(state[0]?.tensor); // the `iterations` scalar getWeights() creates
  opt.dispose();
  tf.dispose(vars);
  return out;
}

describe('native optimizer updates', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const makers: Array<[string, () => tf.Optimizer]> = [
    ['Adam', () => tf.train.adam(0.01, 0.9, 0.999, 1e-7)],
    ['SGD', () => tf.train.sgd(0.1)],
    ['Momentum', () => tf.train.momentum(0.1, 0.9)],
    ['Nesterov momentum', () => tf.train.momentum(0.1, 0.9, true)],
    ['RMSProp', () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-6)],
    ['centered RMSProp', () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-6, true)],
  ];
  for (const [name, make] of makers) {
    it(`${name} leaves weights and getWeights() state bit-identical to stock tfjs`, async () => {
      load();
      const native = await runOptimizer(make, 7);
      unload();
      const stock = await runOptimizer(make, 7);
      load();
      assert.deepEqual(native, stock);
    });
  }

  it('accelerates only the instances it is given: no prototype changes, other optimizers keep the stock update', () => {
    const stock = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(tf.train.adam(0.01)), 'applyGradients')
      ?.value as unknown;
    load();
    const update = (o: object): unknown => Reflect.get(o, 'applyGradients') as unknown;
    assert.equal(update(tf.AdamOptimizer.prototype), stock);
    const plain = tf.train.adam(0.01);
    const fast = accelerateOptimizer(tf.train.adam(0.01));
    assert.equal(update(plain), stock, "another run's (or the application's) optimizer is untouched");
    assert.notEqual(update(fast), stock);
    assert.ok(Object.hasOwn(fast, 'applyGradients'));
    assert.equal(accelerateOptimizer(fast), fast);
    plain.dispose();
    fast.dispose();
  });

  it('Adam resumed from getWeights()/setWeights() continues exactly like an uninterrupted run', async () => {
    const straight = await runOptimizer(() => tf.train.adam(0.01), 6);
    const id = run++;
    const w = tf.variable(tf.tensor(seededValues(40, 1), [8, 5]), true, `opt${id}/w`);
    const b = tf.variable(tf.tensor(seededValues(5, 2)), true, `opt${id}/b`);
    const step = (opt: tf.Optimizer, s: number) => {
      const grads = {
        [w.name]: tf.tensor(seededValues(40, 10 + s), [8, 5]),
        [b.name]: tf.tensor(seededValues(5, 100 + s)),
      };
      opt.applyGradients(grads);
      tf.dispose(Object.values(grads));
    };
    const first = accelerateOptimizer(tf.train.adam(0.01));
    for (let s = 0; s < 3; s++) step(first, s);
    const saved = (await first.getWeights()).map((x) => ({ name: x.name, tensor: tf.clone(x.tensor) }));
    first.dispose();
    const second = accelerateOptimizer(tf.train.adam(0.01));
    await second.setWeights(saved);
    for (let s = 3; s < 6; s++) step(second, s);
    assert.deepEqual(Array.from(w.dataSync()), straight[0]);
    assert.deepEqual(Array.from(b.dataSync()), straight[1]);
    second.dispose();
    tf.dispose([w, b]);
  });

  it('does not leak tensors over many updates', async () => {
    await runOptimizer(() => tf.train.adam(0.01), 2);
    const before = tf.memory().numTensors;
    await runOptimizer(() => tf.train.adam(0.01), 50);
    assert.equal(tf.memory().numTensors, before);
  });
});
