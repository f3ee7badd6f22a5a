import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setUpWasm } from '../testing/wasm-helpers.js';
import { EngramBatchNormalization } from './batch-normalization.layer.js';

before(setUpWasm);

/**
 * Tolerance of the fused op against tfjs-layers' composition (tf.moments + FusedBatchNorm + autodiff):
 * the largest absolute difference over a tensor, relative to the tensor's largest magnitude. The two
 * compute the same formulas in float32 with a different operation order, so they differ by a few ulps.
 */
const REL_TOL = 1e-5;

/** Largest |a − b| relative to max |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN)));
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
  }
  return diff / scale;
}

/** A built batch-norm layer over `channels` with the given scale (gamma) and offset (beta). */
function layerOf(fused: boolean, shape: number[], gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.layers.Layer {
  const channels = shape[shape.length - 1] ?? 0;
  const args = { epsilon: 1e-3, momentum: 0.9 };
  const layer = fused ? new EngramBatchNormalization(args) : tf.layers.batchNormalization(args);
  layer.build(shape);
  tf.tidy(() => layer.setWeights([gamma, beta, tf.zeros([channels]), tf.ones([channels])]));
  return layer;
}

/** y, then the gradients of `Σ y ⊙ c` for x, gamma and beta, from one training call of `layer`. */
function trainingPass(layer: tf.layers.Layer, x: tf.Tensor, c: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const xv = tf.variable(x, true, `bn-x-${layer.name}`);
    const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    let y: tf.Tensor | undefined;
    const { grads } = tf.variableGrads(() => {
      const out = layer.apply(xv, { training: true }) as tf.Tensor;
      y = tf.keep(out.clone());
      return tf.sum(tf.mul(out, c));
    }, [xv, gamma as tf.Variable, beta as tf.Variable]);
    const out = [y, grads[xv.name], grads[gamma?.name ?? ''], grads[beta?.name ?? '']].map((t) => {
      if (!t) throw new Error('missing output');
      return Float32Array.from(t.dataSync());
    });
    tf.dispose([xv, y]);
    return out;
  });
}

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
