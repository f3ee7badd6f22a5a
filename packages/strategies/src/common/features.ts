import * as tf from '@tensorflow/tfjs';
import type { EngramModel } from '@engram/core';

/** Per network: a model from its input to the input of its last layer (the head), built once. */
const bodies = new WeakMap<tf.LayersModel, tf.LayersModel>();

function bodyOf(network: tf.LayersModel): tf.LayersModel {
  let body = bodies.get(network);
  if (!body) {
    const features = network.outputs[0]?.inputs[0];
    if (!features) throw new Error('the model has no layer before its output to take features from');
    body = tf.model({ inputs: network.inputs, outputs: features });
    bodies.set(network, body);
  }
  return body;
}

/**
 * The feature vector φ(x) of a sample: the activations that feed the network's last layer (the
 * classifier head Engram appends), flattened, in inference mode. Works for layer stacks and graph
 * models alike (the head's input tensor is followed through the network's own nodes). Call inside
 * `tf.tidy`.
 */
export function penultimateFeatures(model: EngramModel, x: tf.Tensor): tf.Tensor2D {
  const h = bodyOf(model.network).apply(x, { training: false }) as tf.Tensor;
  return tf.reshape(h, [x.shape[0], -1]);
}

/** Rows scaled to unit L2 norm (zero rows stay zero). Call inside `tf.tidy`. */
export function l2Normalize(rows: tf.Tensor2D): tf.Tensor2D {
  return tf.div<tf.Tensor2D>(rows, tf.maximum(tf.norm(rows, 'euclidean', 1, true), 1e-12));
}

/**
 * Features of host rows `x` (`[n, ...sampleShape]`), L2-normalised unless `normalize` is false,
 * computed in chunks; `[n·d]` row-major.
 */
export function hostFeatures(
  model: EngramModel,
  x: Float32Array,
  n: number,
  sampleShape: readonly number[],
  chunk = 1000,
  normalize = true,
): { values: Float32Array; dim: number } {
  const len = sampleShape.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const f = tf.tidy(() => {
      const h = penultimateFeatures(
        model,
        tf.tensor(x.subarray(start * len, (start + rows) * len), [rows, ...sampleShape], 'float32'),
      );
      return normalize ? l2Normalize(h) : h;
    });
    dim = f.shape[1];
    parts.push(Float32Array.from(f.dataSync() as Float32Array));
    f.dispose();
  }
  const values = new Float32Array(n * dim);
  let offset = 0;
  for (const p of parts) {
    values.set(p, offset);
    offset += p.length;
  }
  return { values, dim };
}
