import * as tf from '@tensorflow/tfjs';
import type { BatchedPlan, ConvGeometry } from './batched-plan.js';
import { convKernelSum } from './conv-patches.js';

/** How per-sample gradients are reduced before they are summed: squared (Fisher) or absolute (MAS). */
export type PerSampleReduce = 'square' | 'abs';

/**
 * Sums over the samples of one chunk of `reduce(∂ℓₙ/∂θ)` for every weight of a planned network, by
 * one forward and one backward pass. The backward pass gives `δ = ∂(Σℓ)/∂z` at each weighted
 * layer's pre-activation through zero probes added to `z`; sample n's gradient is then `aₙᵀδₙ` for a
 * Dense kernel (so `Σₙ aₙ²ᵀδₙ²` for squares: `(a²)ᵀ(δ²)`), `patchesₙᵀδₙ` for a Conv2D kernel (a
 * batched matmul, reduced per sample), and `δₙ` summed over positions for a bias. `logitsToLoss`
 * maps the network's output to the summed objective. Must run inside `tf.tidy`.
 */
export function chunkSums(
  plan: BatchedPlan,
  x: tf.Tensor,
  logitsToLoss: (logits: tf.Tensor) => tf.Scalar,
  reduce: PerSampleReduce,
): Map<string, tf.Tensor> {
  const m = x.shape[0];
  const weighted = plan.layers.filter((p) => p.kind !== 'plain');
  const probes = weighted.map((p) =>
    tf.zeros([m, ...(p.layer.outputShape as Array<number | null>).slice(1).map((d) => d ?? 1)]),
  );
  const acts: tf.Tensor[] = [];
  const f = (...ps: tf.Tensor[]): tf.Scalar => {
    const values = new Map<number, tf.Tensor>([[plan.input, x]]);
    const read = (id: number): tf.Tensor => {
      const t = values.get(id);
      if (!t) throw new Error(`batched per-sample pass: tensor ${id} is read before it is computed`);
      return t;
    };
    let k = 0;
    for (const p of plan.layers) {
      if (p.kind === 'plain') {
        const ins = p.inputs.map(read);
        values.set(
          p.output,
          p.layer.apply(ins.length === 1 ? (ins[0] as tf.Tensor) : ins, { training: false }) as tf.Tensor,
        );
        continue;
      }
      const h = read(p.inputs[0] as number);
      acts.push(tf.keep(h));
      const kernel = p.layer.weights.find((w) => w.shape.length >= 2)?.read() as tf.Tensor;
      const bias = p.layer.weights.find((w) => w.shape.length === 1)?.read();
      let z =
        p.kind === 'dense'
          ? tf.matMul(h, kernel)
          : tf.conv2d(
              h as tf.Tensor4D,
              kernel as tf.Tensor4D,
              p.conv?.strides as [number, number],
              p.conv?.padding ?? 'valid',
            );
      z = tf.add(z, ps[k++] as tf.Tensor);
      if (bias) z = tf.add(z, bias);
      values.set(p.output, (p.activation as tf.layers.Layer).apply(z) as tf.Tensor);
    }
    return logitsToLoss(read(plan.output));
  };
  const deltas = tf.grads(f)(probes);
  const op = reduce === 'square' ? tf.square : tf.abs;
  const sums = new Map<string, tf.Tensor>();
  weighted.forEach((p, i) => {
    const a = acts[i] as tf.Tensor;
    const d = deltas[i] as tf.Tensor;
    const cout = d.shape[d.shape.length - 1] as number;
    for (const w of p.layer.weights) {
      const name = (w.read() as tf.Variable).name;
      let sum: tf.Tensor;
      if (w.shape.length === 1) sum = tf.sum(op(tf.sum(tf.reshape(d, [m, -1, cout]), 1)), 0);
      else if (p.kind === 'dense') sum = tf.matMul(op(a), op(d), true, false);
      else sum = convKernelSum(a as tf.Tensor4D, d as tf.Tensor4D, p.conv as ConvGeometry, w.shape as number[], op);
      sums.set(name, sum);
    }
  });
  tf.dispose(acts);
  return sums;
}
