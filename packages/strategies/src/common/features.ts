import * as tf from '@tensorflow/tfjs';
import type { EngramModel } from '@engram/core';

/**
 * The feature vector φ(x) of a sample: the network's activations just before its last layer (the
 * classifier head Engram appends), flattened, in inference mode. For networks built from the pipeline's
 * `model.layers` plus the head; call inside `tf.tidy`.
 */
export function penultimateFeatures(model: EngramModel, x: tf.Tensor): tf.Tensor2D {
  const layers = model.network.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let h = x;
  for (const layer of layers.slice(0, -1)) h = layer.apply(h, { training: false }) as tf.Tensor;
  return tf.reshape(h, [x.shape[0], -1]);
}

/** Rows scaled to unit L2 norm (zero rows stay zero). Call inside `tf.tidy`. */
export function l2Normalize(rows: tf.Tensor2D): tf.Tensor2D {
  return tf.div<tf.Tensor2D>(rows, tf.maximum(tf.norm(rows, 'euclidean', 1, true), 1e-12));
}

/** L2-normalised features of host rows `x` (`[n, ...sampleShape]`), computed in chunks; `[n·d]` row-major. */
export function hostFeatures(
  model: EngramModel,
  x: Float32Array,
  n: number,
  sampleShape: readonly number[],
  chunk = 1000,
): { values: Float32Array; dim: number } {
  const len = sampleShape.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const f = tf.tidy(() =>
      l2Normalize(
        penultimateFeatures(
          model,
          tf.tensor(x.subarray(start * len, (start + rows) * len), [rows, ...sampleShape], 'float32'),
        ),
      ),
    );
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
