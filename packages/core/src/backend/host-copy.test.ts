import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { hostArray, readbackIsFresh } from './host-copy.js';

test('on the cpu backend a host copy shares nothing with the tensor: changing the variable leaves the copy as it was', async () => {
  await tf.setBackend('cpu');
  assert.equal(readbackIsFresh(), false, 'cpu dataSync returns live storage');
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const before = tf.memory().numTensors;
  const copy = hostArray(v);
  tf.tidy(() => v.assign(tf.tensor1d([7, 8, 9])));
  assert.deepEqual(Array.from(copy.data), [1, 2, 3]);
  assert.deepEqual([copy.dtype, copy.shape], ['float32', [3]]);
  const ints = hostArray(tf.tidy(() => tf.tensor1d([4, 5], 'int32')));
  assert.deepEqual([ints.dtype, Array.from(ints.data)], ['int32', [4, 5]]);
  assert.ok(ints.data instanceof Int32Array);
  v.dispose();
  assert.ok(tf.memory().numTensors <= before);
});
