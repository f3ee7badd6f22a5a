import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { aceLoss, ErAceStrategy } from './er-ace.strategy.js';
import { experienceOf, infoOf, randomBatch, services, tinyMlp } from '../testing/fixtures.js';
import { accuracy, trainWithHooks } from '../testing/mini-trainer.js';

await tf.setBackend('cpu');

/** Gradient of `aceLoss` with respect to the logits. */
function gradient(logits: number[][], labels: number[], incoming: number): number[][] {
  return tf.tidy(() => {
    const g = tf.grad((z: tf.Tensor) => aceLoss(z as tf.Tensor2D, Int32Array.from(labels), incoming))(
      tf.tensor2d(logits),
    );
    return g.arraySync() as number[][];
  });
}

test('ACE masks the logits of classes absent from the incoming batch in the incoming rows only', () => {
  const before = tf.memory().numTensors;
  // 4 classes; incoming rows carry labels 2 and 3, the replayed row label 0.
  const logits = [
    [0.5, 1.0, -0.3, 0.2],
    [1.5, -0.5, 0.1, 0.7],
    [0.3, 0.9, -1.2, 0.4],
  ];
  const g = gradient(logits, [2, 3, 0], 2);
  for (const row of [0, 1]) {
    assert.equal(g[row]?.[0], 0, `incoming row ${row}: class 0 is masked`);
    assert.equal(g[row]?.[1], 0, `incoming row ${row}: class 1 is masked`);
    assert.ok(
      Math.abs(g[row]?.[2] ?? 0) > 1e-3 && Math.abs(g[row]?.[3] ?? 0) > 1e-3,
      `incoming row ${row} competes among classes 2 and 3`,
    );
  }
  for (const j of [0, 1, 2, 3])
    assert.ok(Math.abs(g[2]?.[j] ?? 0) > 1e-3, `the replayed row is scored over every class (class ${j})`);
  assert.equal(tf.memory().numTensors, before);
});

test("the ACE value is the incoming rows' cross-entropy over their own classes plus the replayed rows' over all, by hand", () => {
  const logits = [
    [0.5, 1.0, -0.3, 0.2],
    [1.5, -0.5, 0.1, 0.7],
    [0.3, 0.9, -1.2, 0.4],
  ];
  const ce = (z: number[], y: number, keep: number[]): number => {
    const lse = Math.log(keep.reduce((s, j) => s + Math.exp(z[j] as number), 0));
    return lse - (z[y] as number);
  };
  const incoming = (ce(logits[0] as number[], 2, [2, 3]) + ce(logits[1] as number[], 3, [2, 3])) / 2;
  const replayed = ce(logits[2] as number[], 0, [0, 1, 2, 3]);
  const got = tf.tidy(() => aceLoss(tf.tensor2d(logits), Int32Array.from([2, 3, 0]), 2).dataSync()[0] as number);
  assert.ok(Math.abs(got - (incoming + replayed)) < 1e-5, `${got} vs ${incoming + replayed}`);
  // Without replayed rows it is the incoming term alone.
  const alone = tf.tidy(
    () => aceLoss(tf.tensor2d(logits.slice(0, 2)), Int32Array.from([2, 3]), 2).dataSync()[0] as number,
  );
  assert.ok(Math.abs(alone - incoming) < 1e-5);
});

test('ER-ACE replays from its memory and remembers the first experience better than plain fine-tuning', async () => {
  const info = infoOf(4, 4);
  const data = [experienceOf(0, randomBatch(80, 4, [0, 1], 11)), experienceOf(1, randomBatch(80, 4, [2, 3], 12))];
  const test0 = randomBatch(60, 4, [0, 1], 13);
  const plain = await trainWithHooks([], tinyMlp(4, [16], 4, 5, 'relu'), data, info, {
    epochs: 5,
    batchSize: 10,
    learningRate: 0.1,
  });
  const s = new ErAceStrategy({ bufferSize: 40, policy: 'reservoir' }, services(3));
  const ace = await trainWithHooks([s], tinyMlp(4, [16], 4, 5, 'relu'), data, info, {
    epochs: 5,
    batchSize: 10,
    learningRate: 0.1,
  });
  assert.equal(s.buffer.size, 40);
  const [a, p] = [accuracy(ace, test0), accuracy(plain, test0)];
  assert.ok(a > p + 0.2, `ER-ACE ${a} vs fine-tuning ${p} on the first experience`);
  plain.dispose();
  ace.dispose();
});
