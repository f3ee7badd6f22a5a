import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { errorSums, regressionLoss } from './regression-loss.js';

const p = [
  [1, 2],
  [0, -3],
];
const t = [
  [1.5, 0],
  [0, 1],
];
// errors: −0.5, 2, 0, −4

describe('regression losses', () => {
  it('mse, mae and huber equal their formulas on a hand-computed batch', () => {
    const before = tf.memory().numTensors;
    const pred = tf.tensor2d(p);
    const target = tf.tensor2d(t);
    const value = (loss: 'mse' | 'mae' | 'huber', delta?: number): number => {
      const s = regressionLoss(pred, target, loss, delta);
      const v = s.dataSync()[0] as number;
      s.dispose();
      return v;
    };
    assert.ok(Math.abs(value('mse') - (0.25 + 4 + 0 + 16) / 4) < 1e-6);
    assert.ok(Math.abs(value('mae') - (0.5 + 2 + 0 + 4) / 4) < 1e-6);
    // δ = 1: ½·0.25, 1·(2 − ½), 0, 1·(4 − ½)
    assert.ok(Math.abs(value('huber') - (0.125 + 1.5 + 0 + 3.5) / 4) < 1e-6);
    // δ = 3: ½·0.25, ½·4, 0, 3·(4 − 1.5)
    assert.ok(Math.abs(value('huber', 3) - (0.125 + 2 + 0 + 7.5) / 4) < 1e-6);
    tf.dispose([pred, target]);
    assert.equal(tf.memory().numTensors, before);
  });

  it("huber's gradient is the error inside the threshold and δ·sign(e) beyond", () => {
    const target = tf.tensor2d(t);
    const grad = tf.grad((x: tf.Tensor) => regressionLoss(x as tf.Tensor2D, target, 'huber', 1))(tf.tensor2d(p));
    // d/dp of mean over 4 elements: e/4 inside, ±1/4 beyond
    assert.deepEqual(
      Array.from(grad.dataSync()).map((v) => Number(v.toFixed(6))),
      [-0.125, 0.25, 0, -0.25],
    );
    tf.dispose([target, grad]);
  });

  it('error sums give MAE and RMSE', () => {
    const s = errorSums(p.flat(), t.flat());
    assert.equal(s.absolute / s.count, 1.625);
    assert.equal(Math.sqrt(s.squared / s.count), Math.sqrt(20.25 / 4));
  });
});
