import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../backend/backend.selector.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { keepMovingStatistics, poisonOf } from './poisoned-batch.js';

const NOT_FINITE = 'a gradient or batch-norm statistic is not finite';

test("on wasm with @engram/native, the run's finiteness probe gives the tf-ops probe's answers: clean, a NaN last in one gradient, an Infinity in a moving statistic", async (t) => {
  const { accelerator } = await activateBackend('wasm');
  const allFinite = accelerator.allFinite;
  if (!allFinite) {
    t.skip('native kernels not loaded here (no addon or no BLAS): only the tf-ops probe exists');
    return;
  }
  const net = tf.sequential({
    layers: [
      tf.layers.dense({ units: 300, inputShape: [40], name: 'probe-a' }),
      tf.layers.batchNormalization({ name: 'probe-bn' }),
      tf.layers.dense({ units: 3, name: 'probe-b' }),
    ],
  });
  const m = new LayersEngramModel(net);
  const x = tf.randomNormal([8, 40], 0, 1, 'float32', 1);
  const { grads } = tf.variableGrads(
    () => tf.mean(tf.square(m.forward(x, { training: true }))),
    m.trainableVariables(),
  );
  const kept = keepMovingStatistics(m);
  const both = (g: tf.NamedTensorMap): [string | undefined, string | undefined] => [
    poisonOf(0.5, g, kept),
    poisonOf(0.5, g, kept, allFinite),
  ];
  assert.deepEqual(both(grads), [undefined, undefined]);
  assert.equal(allFinite(Object.values(grads)), true, 'answered natively, not left to the tf-ops probe');

  const name = 'probe-a/kernel';
  const original = grads[name];
  assert.ok(original, Object.keys(grads).join(', '));
  const values = original.dataSync().slice();
  values[values.length - 1] = Number.NaN;
  const withNaN = { ...grads, [name]: tf.tensor(values, original.shape) };
  assert.deepEqual(both(withNaN), [NOT_FINITE, NOT_FINITE]);
  assert.equal(allFinite(Object.values(withNaN)), false, 'answered natively');
  withNaN[name].dispose();

  const variance = net.nonTrainableWeights.find((w) => /moving_variance/.test(w.name));
  assert.ok(variance);
  const stats = variance.read().dataSync().slice();
  stats[17] = Number.POSITIVE_INFINITY;
  variance.write(tf.tensor(stats, variance.shape as number[]));
  assert.deepEqual(both(grads), [NOT_FINITE, NOT_FINITE]);

  kept.restore();
  tf.dispose([x, ...Object.values(grads)]);
  net.dispose();
});
