import * as tf from '@tensorflow/tfjs';
import type { Batch, EngramModel } from '@engram/core';
import { keyByPosition, type TensorStore } from '../common/tensor-state.js';
import { batchedPlan, chunkSums, passSize, type PerSampleReduce } from './batched-per-sample.js';

export type { PerSampleReduce } from './batched-per-sample.js';

/** Which labels the Fisher's log-likelihood uses: the data's (empirical Fisher) or the model's argmax. */
export type FisherLabels = 'true' | 'predicted';

/** A per-sample objective summed over the batch: `Σₙ ℓ(logitsₙ, labelsₙ)`. */
export type SummedObjective = (logits: tf.Tensor, labels: tf.Tensor1D) => tf.Scalar;

/** Sum over samples of the softmax cross-entropy of `logits` against integer `labels`. */
export function summedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(labels, logits.shape[1] as number);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits as tf.Tensor2D)))) as tf.Scalar;
}

function inputs(batch: Batch): { x: tf.Tensor; n: number } {
  const n = batch.y.length;
  return { x: tf.tensor(batch.x, [n, ...batch.sampleShape], 'float32'), n };
}

function labelsFor(model: EngramModel, batch: Batch, x: tf.Tensor, labels: FisherLabels): tf.Tensor1D {
  if (labels === 'true') return tf.tensor1d(batch.y, 'int32');
  const task = batch.task ? { task: batch.task } : {};
  return tf.argMax<tf.Tensor1D>(model.forward(x, { training: false, ...task }), 1);
}

/**
 * Diagonal Fisher by the per-sample loop: for each sample, the squared gradient of its
 * log-likelihood; averaged. Exact for any model, slow. Returns tensors keyed by variable position.
 */
export function fisherPerSample(model: EngramModel, batch: Batch, labels: FisherLabels = 'true'): TensorStore {
  return perSampleLoop(model, batch, labels, summedCrossEntropy, 'square');
}

/** Mean over samples of `reduce(∂ℓₙ/∂θ)` by a loop over single samples (any model). */
export function perSampleLoop(
  model: EngramModel,
  batch: Batch,
  labels: FisherLabels,
  objective: SummedObjective,
  reduce: PerSampleReduce,
): TensorStore {
  const vars = model.trainableVariables();
  const sums = new Map<string, tf.Tensor>(vars.map((v) => [v.name, tf.zerosLike(v)]));
  const n = batch.y.length;
  const len = batch.x.length / n;
  for (let i = 0; i < n; i++) {
    const row: Batch = {
      x: batch.x.subarray(i * len, (i + 1) * len),
      y: batch.y.subarray(i, i + 1),
      sampleShape: batch.sampleShape,
      ...(batch.task ? { task: batch.task.subarray(i, i + 1) } : {}),
    };
    tf.tidy(() => {
      const { x } = inputs(row);
      const y = labelsFor(model, row, x, labels);
      const task = row.task ? { task: row.task } : {};
      const { grads } = tf.variableGrads(() => objective(model.forward(x, { training: false, ...task }), y), vars);
      for (const v of vars) {
        const g = grads[v.name];
        const old = sums.get(v.name);
        if (!g || !old) continue;
        sums.set(v.name, tf.keep(tf.add(old, reduce === 'square' ? tf.square(g) : tf.abs(g))));
        old.dispose();
      }
    });
  }
  for (const [k, t] of sums) {
    sums.set(
      k,
      tf.tidy(() => tf.div(t, Math.max(n, 1))),
    );
    t.dispose();
  }
  return keyByPosition(sums, vars);
}

/** True when {@link perSampleDiagonal} can use the batched pass for `model` (Dense and Conv2D networks). */
export function batchedFisherApplies(model: EngramModel): boolean {
  return batchedPlan(model) !== undefined;
}

/**
 * Exact diagonal Fisher — the mean over samples of the squared per-sample gradient of the
 * log-likelihood — in batched passes for Sequential networks of Dense and Conv2D layers (see
 * `chunkSums`), the per-sample loop ({@link fisherPerSample}) for any other model.
 */
export function diagonalFisher(
  model: EngramModel,
  batch: Batch,
  labels: FisherLabels = 'true',
  chunk = 256,
): TensorStore {
  return perSampleDiagonal(model, batch, labels, summedCrossEntropy, 'square', chunk);
}

/**
 * Mean over samples of `reduce(∂ℓₙ/∂θ)` for a summed objective: batched passes of at most `chunk`
 * samples for Dense/Conv2D networks (a convolution's per-sample pieces in smaller slices), the
 * per-sample loop otherwise. Returns tensors keyed by variable position.
 */
export function perSampleDiagonal(
  model: EngramModel,
  batch: Batch,
  labels: FisherLabels,
  objective: SummedObjective,
  reduce: PerSampleReduce,
  chunk = 256,
): TensorStore {
  const plan = batchedPlan(model);
  if (!plan) return perSampleLoop(model, batch, labels, objective, reduce);
  const vars = model.trainableVariables();
  const sums = new Map<string, tf.Tensor>(vars.map((v) => [v.name, tf.zerosLike(v)]));
  const n = batch.y.length;
  const len = batch.x.length / Math.max(n, 1);
  const step = passSize(plan, chunk);
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    const part: Batch = {
      x: batch.x.subarray(start * len, end * len),
      y: batch.y.subarray(start, end),
      sampleShape: batch.sampleShape,
      ...(batch.task ? { task: batch.task.subarray(start, end) } : {}),
    };
    tf.tidy(() => {
      const { x } = inputs(part);
      const y = labelsFor(model, part, x, labels);
      const task = part.task ? { task: part.task } : {};
      const add = chunkSums(
        plan,
        x,
        (logits) => objective(plan.mapper.mapLogits(logits, { training: false, ...task }), y),
        reduce,
      );
      for (const [name, t] of add) {
        const old = sums.get(name);
        if (!old) continue;
        sums.set(name, tf.keep(tf.add(old, t)));
        old.dispose();
      }
    });
  }
  for (const [k, t] of sums) {
    sums.set(
      k,
      tf.tidy(() => tf.div(t, Math.max(n, 1))),
    );
    t.dispose();
  }
  return keyByPosition(sums, vars);
}
