import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { applyWithPenalties } from './optimizers/penalized-apply.js';
import { accelerateOptimizer } from './optimizers/optimizer-patch.js';
import { seededValues, skipNative, useWasmNative } from './testing/backend-harness.js';

// A full collection before each reading, so RSS shows retained memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test(
  '5,000 native training steps keep the tensor count flat and the memory bounded after warm-up',
  { skip: skipNative },
  async () => {
    const loaded = await useWasmNative();
    assert.ok(loaded.loaded, loaded.description);
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 64, activation: 'relu', inputShape: [784] }), tf.layers.dense({ units: 10 })],
    });
    const optimizer = accelerateOptimizer(tf.train.adam(1e-3));
    const x = tf.tensor2d(seededValues(32 * 784, 3), [32, 784]);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 32 }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    const step = (): void => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, model.apply(x, { training: true }) as tf.Tensor),
        true,
      );
      loss?.dispose();
    };
    for (let i = 0; i < 500; i++) step();
    const tensors = tf.memory().numTensors;
    gc();
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 5000; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    gc();
    const growth = process.memoryUsage().rss - rss;
    // The allocator settles over the first ~20k steps (measured: +20 MB, then flat to 40k steps); a real
    // leak of even 16 kB per step would add 80 MB here.
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${(growth / 1e6).toFixed(1)} MB over 5,000 steps`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  },
);

test(
  '2,000 CNN steps with a fused EWC penalty keep the tensor count flat and the memory bounded',
  { skip: skipNative },
  async () => {
    const loaded = await useWasmNative();
    assert.ok(loaded.loaded, loaded.description);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', padding: 'same' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const optimizer = accelerateOptimizer(tf.train.adam(1e-3));
    const x = tf.tensor4d(seededValues(16 * 784, 5), [16, 28, 28, 1]);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const penalties = vars.map((v) => [{ anchor: tf.zerosLike(v), importance: tf.onesLike(v), scale: 0.01 }]);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, model.apply(x, { training: true }) as tf.Tensor),
        vars,
      );
      const list = vars.map((v) => ({ name: v.name, tensor: grads[v.name] as tf.Tensor }));
      assert.notEqual(applyWithPenalties(optimizer, list, penalties), undefined);
      tf.dispose([value, ...Object.values(grads)]);
    };
    for (let i = 0; i < 200; i++) step();
    const tensors = tf.memory().numTensors;
    gc();
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    gc();
    const growth = process.memoryUsage().rss - rss;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${(growth / 1e6).toFixed(1)} MB over 2,000 steps`);
    tf.dispose([x, y, ...penalties.flatMap((p) => p.flatMap((t) => [t.anchor, t.importance]))]);
    optimizer.dispose();
    model.dispose();
  },
);
