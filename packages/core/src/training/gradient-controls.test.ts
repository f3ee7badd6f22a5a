import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { controlGradients, globalNorm } from './gradient-controls.js';
import { OptimizerHandle } from './optimizer-handle.js';
import type { OptimizerSpec } from '../pipeline/optimizer.schema.js';

let id = 0;

/** One update of a fresh handle on a [3] weight and a [2] bias; returns their values after it. */
function oneStep(
  spec: OptimizerSpec,
  grads: [number[], number[]],
  clipping: { clipNorm?: number; clipValue?: number } = {},
  rate?: number,
): { w: Float32Array; b: Float32Array; w0: number[]; b0: number[] } {
  const n = id++;
  const w0 = [0.5, -1.5, 2];
  const b0 = [1, -0.25];
  const w = tf.variable(tf.tensor1d(w0), true, `gc${n}/w`);
  const b = tf.variable(tf.tensor1d(b0), true, `gc${n}/b`);
  const handle = new OptimizerHandle(spec, undefined, clipping);
  if (rate !== undefined) handle.setLearningRate(rate);
  const g = { [w.name]: tf.tensor1d(grads[0]), [b.name]: tf.tensor1d(grads[1]) };
  void handle.track([w, b]);
  handle.apply(g, [w, b]);
  const out = { w: w.dataSync() as Float32Array, b: b.dataSync() as Float32Array, w0, b0 };
  tf.dispose([w, b, ...Object.values(g)]);
  handle.dispose();
  return out;
}

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) =>
    assert.ok(Math.abs((actual[i] as number) - e) <= tol * Math.max(1, Math.abs(e)), `${actual[i]} vs ${e} at ${i}`),
  );
}

describe('gradient controls', () => {
  it('clipNorm scales gradients whose global norm exceeds the bound down to exactly the bound', () => {
    const before = tf.memory().numTensors;
    const grads = [tf.tensor1d([3, 4, 12]), tf.tensor2d([[0, 84]])]; // global norm √(9+16+144+7056) = 85
    assert.ok(Math.abs(globalNorm(grads) - 85) < 1e-4);
    const clipped = controlGradients(grads, [], { clipNorm: 5 });
    assert.ok(Math.abs(globalNorm(clipped) - 5) < 1e-4, `norm ${globalNorm(clipped)}`);
    // the direction is kept: every element scaled by 5/85
    close(clipped[0]?.dataSync() ?? [], [3 / 17, 4 / 17, 12 / 17], 1e-5);
    const loose = controlGradients(grads, [], { clipNorm: 100 });
    close(loose[0]?.dataSync() ?? [], [3, 4, 12]);
    tf.dispose([...grads, ...clipped, ...loose]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('clipValue bounds every element', () => {
    const g = [tf.tensor1d([-3, 0.2, 7])];
    const out = controlGradients(g, [], { clipValue: 0.5 });
    close(out[0]?.dataSync() ?? [], [-0.5, 0.2, 0.5]);
    tf.dispose([...g, ...out]);
  });

  it('SGD with weightDecay adds weightDecay·θ to the gradient (L2)', () => {
    const r = oneStep({ type: 'sgd', learningRate: 0.1, weightDecay: 0.5 }, [
      [1, 2, 3],
      [0, -1],
    ]);
    close(
      r.w,
      r.w0.map((t, i) => t - 0.1 * ([1, 2, 3][i]! + 0.5 * t)),
    );
    close(
      r.b,
      r.b0.map((t, i) => t - 0.1 * ([0, -1][i]! + 0.5 * t)),
    );
  });

  it('AdamW takes the closed-form first step: θ·(1 − lr·wd) − lr·g/(|g| + ε)', () => {
    const lr = 0.01,
      wd = 0.1,
      eps = 1e-7;
    const gw = [0.3, -2, 0.05];
    const r = oneStep({ type: 'adamw', learningRate: lr, weightDecay: wd, epsilon: eps }, [gw, [1, -1]]);
    // first step: m̂ = g, v̂ = g², so the Adam part is −lr·g/(|g|+ε)
    close(
      r.w,
      r.w0.map((t, i) => t * (1 - lr * wd) - (lr * gw[i]!) / (Math.abs(gw[i]!) + eps)),
    );
  });

  it('a scheduled rate reaches the update of optimizers that cache it as a tensor (SGD)', () => {
    const r = oneStep(
      { type: 'sgd', learningRate: 0.1 },
      [
        [1, 2, 3],
        [0, 0],
      ],
      {},
      0.025,
    );
    close(
      r.w,
      r.w0.map((t, i) => t - 0.025 * [1, 2, 3][i]!),
    );
  });

  it('keeps the base rate a schedule scales, and the scheduled rate across a rebuilt optimizer', () => {
    const handle = new OptimizerHandle({ type: 'adam', learningRate: 0.02 });
    handle.setLearningRate(0.005);
    handle.setLearningRate(0.004);
    assert.equal(handle.baseLearningRate, 0.02);
    assert.equal(handle.learningRate, 0.004);
    handle.reset();
    assert.equal((handle.current as unknown as { learningRate: number }).learningRate, 0.004);
    handle.dispose();
  });

  it('clipNorm inside the optimizer step: the update of plain SGD is lr times the clipped gradient', () => {
    const r = oneStep(
      { type: 'sgd', learningRate: 1 },
      [
        [3, 4, 0],
        [0, 0],
      ],
      { clipNorm: 1 },
    );
    close(r.w, [0.5 - 0.6, -1.5 - 0.8, 2], 1e-5);
  });
});
