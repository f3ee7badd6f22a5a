import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { EngramBatchNormalization } from '../model/batch-normalization.layer.js';

/*
 * What the fused batch-norm tests (cpu and wasm) compare: one training pass of core's
 * EngramBatchNormalization against one of tfjs-layers' own BatchNormalization. Test code only.
 */

/**
 * Tolerance of the fused op against tfjs-layers' composition (tf.moments + FusedBatchNorm + autodiff):
 * the largest absolute difference over a tensor, relative to the tensor's largest magnitude. The two
 * compute the same formulas in float32 with a different operation order, so they differ by a few ulps.
 */
export const REL_TOL = 1e-5;

/** Largest |a − b| relative to max |b|. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
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
export function layerOf(fused: boolean, shape: number[], gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.layers.Layer {
  const channels = shape[shape.length - 1] ?? 0;
  const args = { epsilon: 1e-3, momentum: 0.9 };
  const layer = fused ? new EngramBatchNormalization(args) : tf.layers.batchNormalization(args);
  layer.build(shape);
  tf.tidy(() => layer.setWeights([gamma, beta, tf.zeros([channels]), tf.ones([channels])]));
  return layer;
}

/** y, then the gradients of `Σ y ⊙ c` for x, gamma and beta, from one training call of `layer`. */
export function trainingPass(layer: tf.layers.Layer, x: tf.Tensor, c: tf.Tensor): Float32Array[] {
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
