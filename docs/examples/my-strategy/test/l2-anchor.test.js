import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, checkManifest } from '@engram/core';
import manifest, { L2AnchorStrategy } from '../index.js';

await tf.setBackend('cpu');

/** A 2→2 linear model with known weights. */
function linear(kernel, bias) {
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] });
  tf.tidy(() => net.setWeights([tf.tensor2d(kernel, [2, 2]), tf.tensor1d(bias)]));
  return new LayersEngramModel(net);
}

test('the default export is a valid plugin manifest', () => {
  assert.equal(typeof checkManifest(manifest), 'object');
  assert.equal(manifest.name, 'engram-strategy-l2-anchor');
});

test('the penalty is 0 at the anchor and lambda/2 times the squared distance away from it', () => {
  const model = linear([1, 2, 3, 4], [0, 0]);
  const s = new L2AnchorStrategy({ lambda: 4 });
  assert.equal(s.penalty({ model }), undefined, 'nothing to anchor to before the first experience ends');
  s.afterExperience({ model });
  tf.tidy(() => assert.equal(s.penalty({ model }).dataSync()[0], 0));
  const [k] = model.trainableVariables();
  k.assign(tf.tensor2d([1.5, 2, 3, 3], [2, 2]));
  // 4/2 · (0.5² + 1²) = 2.5
  tf.tidy(() => assert.equal(s.penalty({ model }).dataSync()[0], 2.5));
  s.dispose();
  model.dispose();
});

test('state() and restore() round-trip exactly and leak no tensors', () => {
  const before = tf.memory().numTensors;
  const model = linear([0.1, 0.2, 0.3, 0.4], [0.5, 0.6]);
  const a = new L2AnchorStrategy({ lambda: 1 });
  a.afterExperience({ model });
  const b = new L2AnchorStrategy({ lambda: 1 });
  b.restore(a.state());
  assert.deepEqual(b.state(), a.state());
  a.dispose();
  b.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
