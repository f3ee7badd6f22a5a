import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { OptimizerHandle, learningRateAt, type OptimizerSpec, type VariablePenalties } from '@engram/core/internal';
import { accelerateOptimizer, applyWithPenalties, load, unload } from '../index.js';
import { seededValues, skipNative, useWasmNative } from '../testing/backend-harness.js';

let run = 0;

/**
 * Six steps of an OptimizerHandle on a 2,100-element kernel and a bias with a cosine-with-warm-up rate
 * set before each step (as the train stage does), optionally with a quadratic penalty; native (the
 * handle's accelerator) or stock. Returns weights and optimizer slots.
 */
async function train(spec: OptimizerSpec, native: boolean, clipping = {}, penalised = false): Promise<number[][]> {
  const id = run++;
  const vars = tf.tidy(() => [
    tf.variable(tf.tensor(seededValues(2100, 1), [300, 7]), true, `ctl${id}/w`),
    tf.variable(tf.tensor(seededValues(7, 2)), true, `ctl${id}/b`),
  ]);
  const accelerator = native ? { accelerateOptimizer, applyWithPenalties } : {};
  const handle = new OptimizerHandle(spec, accelerator, clipping);
  await handle.track(vars);
  const anchors = vars.map((v, i) => tf.tensor(seededValues(v.size, 50 + i), v.shape));
  const penalties: VariablePenalties | undefined = penalised
    ? vars.map((v, i) => [{ anchor: anchors[i] as tf.Tensor, importance: tf.onesLike(v), scale: 3 }])
    : undefined;
  const schedule = { type: 'cosine', interval: 'step', warmup: 2 } as const;
  for (let s = 0; s < 6; s++) {
    handle.setLearningRate(learningRateAt(schedule, handle.baseLearningRate, s, 4));
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.tensor(seededValues(v.size, 100 + 10 * s + i), v.shape)));
    handle.apply(grads, vars, penalties);
    tf.dispose(Object.values(grads));
  }
  const state = await handle.current.getWeights();
  const values = [...vars, ...state.slice(1).map((x) => x.tensor)].map((t) => Array.from(t.dataSync()));
  tf.dispose(state[0]?.tensor);
  handle.dispose();
  tf.dispose([...vars, ...anchors, ...(penalties ?? []).flatMap((p) => (p ?? []).map((t) => t.importance))]);
  return values;
}

describe('training controls on the native optimizer kernels', { skip: skipNative }, () => {
  before(async () => {
    const result = await useWasmNative();
    assert.ok(result.loaded, result.description);
  });

  const cases: Array<[string, OptimizerSpec, object, boolean]> = [
    [
      'AdamW (decoupled decay) with a scheduled rate',
      { type: 'adamw', learningRate: 0.01, weightDecay: 0.1 },
      {},
      false,
    ],
    ['Adam with L2 weight decay and a penalty', { type: 'adam', learningRate: 0.01, weightDecay: 0.01 }, {}, true],
    ['SGD with L2 and clipNorm', { type: 'sgd', learningRate: 0.1, weightDecay: 0.05 }, { clipNorm: 1 }, false],
    ['Momentum with clipValue and a penalty', { type: 'momentum', learningRate: 0.05 }, { clipValue: 0.3 }, true],
    ['RMSProp with a scheduled rate', { type: 'rmsprop', learningRate: 0.01 }, {}, false],
  ];
  for (const [name, spec, clipping, penalised] of cases) {
    it(`${name}: native and stock updates end bit-identical`, async () => {
      load();
      const native = await train(spec, true, clipping, penalised);
      unload();
      const stock = await train(spec, false, clipping, penalised);
      load();
      assert.deepEqual(native, stock);
      assert.ok(native.flat().every(Number.isFinite));
    });
  }

  it('a scheduled rate changes the native update: a run at a constant rate ends elsewhere', async () => {
    load();
    const scheduled = await train({ type: 'adam', learningRate: 0.01 }, true);
    const handle = new OptimizerHandle({ type: 'adam', learningRate: 0.01 }, { accelerateOptimizer });
    assert.equal(handle.baseLearningRate, 0.01);
    handle.dispose();
    const constant = await (async () => {
      const id = run++;
      const vars = tf.tidy(() => [
        tf.variable(tf.tensor(seededValues(2100, 1), [300, 7]), true, `ctl${id}/w`),
        tf.variable(tf.tensor(seededValues(7, 2)), true, `ctl${id}/b`),
      ]);
      const h = new OptimizerHandle({ type: 'adam', learningRate: 0.01 }, { accelerateOptimizer });
      await h.track(vars);
      for (let s = 0; s < 6; s++) {
        const grads: tf.NamedTensorMap = {};
        vars.forEach((v, i) => (grads[v.name] = tf.tensor(seededValues(v.size, 100 + 10 * s + i), v.shape)));
        h.apply(grads, vars);
        tf.dispose(Object.values(grads));
      }
      const w = Array.from(vars[0]?.dataSync() ?? []);
      h.dispose();
      tf.dispose(vars);
      return w;
    })();
    assert.notDeepEqual(scheduled[0], constant);
  });
});
