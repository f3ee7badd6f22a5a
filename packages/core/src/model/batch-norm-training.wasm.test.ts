import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setUpWasm } from '../testing/wasm-helpers.js';
import { layerOf, REL_TOL, relDiff, trainingPass } from '../testing/batch-norm-comparison.js';

before(setUpWasm);

for (const shape of [
  [8, 5, 5, 6],
  [32, 7],
]) {
  test(`on wasm the fused training op gives tfjs-layers' output, gradients and moving statistics on [${shape.join(', ')}]`, () => {
    assert.equal(tf.getBackend(), 'wasm');
    const channels = shape[shape.length - 1] ?? 0;
    const x = tf.randomNormal(shape, 3, 2, 'float32', 21);
    const c = tf.randomNormal(shape, 0, 1, 'float32', 22);
    const gamma = tf.randomUniform<tf.Rank.R1>([channels], 0.5, 1.5, 'float32', 23);
    const beta = tf.randomNormal<tf.Rank.R1>([channels], 0, 1, 'float32', 24);
    const layers = [layerOf(true, shape, gamma, beta), layerOf(false, shape, gamma, beta)];
    trainingPass(layers[0] as tf.layers.Layer, x, c); // warm-up
    const before = tf.memory().numTensors;
    const [fused, reference] = layers.map((l) => [
      ...trainingPass(l, x, c),
      ...l
        .getWeights()
        .slice(2)
        .map((w) => Float32Array.from(w.dataSync())),
    ]);
    assert.equal(tf.memory().numTensors, before, 'a training pass leaves no tensor behind');
    // The fused layer ran two passes, the reference one: compare the moving statistics after one more.
    trainingPass(layers[1] as tf.layers.Layer, x, c);
    const refMoving = (layers[1] as tf.layers.Layer)
      .getWeights()
      .slice(2)
      .map((w) => Float32Array.from(w.dataSync()));
    ['y', 'dx', 'dGamma', 'dBeta', 'moving mean', 'moving variance'].forEach((name, i) => {
      const want = i < 4 ? reference?.[i] : refMoving[i - 4];
      const d = relDiff(fused?.[i] ?? [], want ?? []);
      assert.ok(d <= REL_TOL, `${name}: relative difference ${d} > ${REL_TOL}`);
    });
    tf.dispose([x, c, gamma, beta]);
  });
}
