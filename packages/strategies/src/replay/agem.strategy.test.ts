import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@engram/core';
import { AgemStrategy, projectGradients } from './agem.strategy.js';
import { experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

function dot(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  return tf.tidy(() => Object.keys(a).reduce((s, k) => s + (tf.sum(tf.mul(a[k]!, b[k]!)).dataSync()[0] as number), 0));
}

test('the A-GEM projection removes exactly the conflicting component (hand-checked)', () => {
  const g = { w: tf.tensor1d([1, 0]) };
  const ref = { w: tf.tensor1d([-1, 1]) };
  const p = projectGradients(g, ref);
  // g − (g·r / r·r) r = [1, 0] − (−1/2)[−1, 1] = [0.5, 0.5]
  assert.deepEqual(Array.from(p['w']!.dataSync()), [0.5, 0.5]);
  assert.equal(dot(p, ref), 0);
  tf.dispose([g.w, ref.w, p['w']!]);
});

test('the A-GEM projected gradient has a non-negative dot product with the reference, and is unchanged when it already had', () => {
  const rng = new Rng(5);
  let projected = 0;
  for (let trial = 0; trial < 200; trial++) {
    const rand = (shape: number[]): tf.Tensor =>
      tf.tensor(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
        shape,
      );
    const g = { a: rand([3, 2]), b: rand([2]) };
    const ref = { a: rand([3, 2]), b: rand([2]) };
    const before = dot(g, ref);
    const p = projectGradients(g, ref);
    if (before >= 0) {
      assert.equal(p, g, 'returned as is');
    } else {
      projected++;
      assert.ok(dot(p, ref) >= -1e-5, `dot after projection ${dot(p, ref)}`);
      tf.dispose([p['a']!, p['b']!]);
    }
    tf.dispose([g.a, g.b, ref.a, ref.b]);
  }
  assert.ok(projected > 50 && projected < 150);
});

test('A-GEM draws its reference only from past experiences and leaks no tensors', async () => {
  const before = tf.memory().numTensors;
  const model = tinyMlp(4, [6], 4, 4);
  const s = new AgemStrategy({ bufferSize: 30, sampleSize: 10 }, services());
  let changed = 0;
  const spy = {
    name: 'spy',
    afterBackward(grads: tf.NamedTensorMap, ctx: Parameters<NonNullable<AgemStrategy['afterBackward']>>[1]) {
      const out = s.afterBackward(grads, ctx);
      if (out !== grads) changed++;
      return out;
    },
    afterBatch: (ctx: Parameters<AgemStrategy['afterBatch']>[0]) => s.afterBatch(ctx),
    afterExperience: () => s.afterExperience(),
  };
  await trainWithHooks([spy], model, [experienceOf(0, randomBatch(64, 4, [0, 1], 1))], infoOf(4, 4));
  assert.equal(changed, 0, 'nothing to project against during the first experience');
  assert.equal(s.buffer.size, 30);
  await trainWithHooks([spy], model, [experienceOf(1, randomBatch(64, 4, [2, 3], 2))], infoOf(4, 4), {
    learningRate: 0.5,
  });
  assert.ok(changed > 0, 'conflicting steps were projected');
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
