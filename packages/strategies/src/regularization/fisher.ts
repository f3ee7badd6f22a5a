import * as tf from '@tensorflow/tfjs';
import type { Batch, EngramModel } from '@engram/core';
import { keyByPosition, type TensorStore } from '../common/tensor-state.js';
import { chunkSums, type PerSampleReduce } from './batched-per-sample.js';
import { batchedPlan, passSize } from './batched-plan.js';

export type { PerSampleReduce } from './batched-per-sample.js';

/** Which labels the Fisher's log-likelihood uses: the data's (empirical Fisher) or the model's argmax. */
export type FisherLabels = 'true' | 'predicted';

/**
 * A per-sample objective summed over the batch: `Σₙ ℓ(logitsₙ, labelsₙ)`; `values` are the regression
 * targets `[n, k]` of a regression batch.
 */
export type SummedObjective = (logits: tf.Tensor, labels: tf.Tensor1D, values?: tf.Tensor2D) => tf.Scalar;

/**
 * Regression log-likelihood objective: `Σₙ ½‖outputsₙ − targetsₙ‖²` (a unit-variance Gaussian); its
 * squared per-sample gradients are the empirical Fisher of a regression model (see {@link gaussianFisher}
 * for the one EWC uses).
 */
export function summedSquaredError(outputs: tf.Tensor, _labels: tf.Tensor1D, values?: tf.Tensor2D): tf.Scalar {
  if (!values) throw new Error('summedSquaredError needs regression targets');
  return tf.mul<tf.Scalar>(tf.sum(tf.square(tf.sub(outputs, values))), 0.5);
}

/**
 * Diagonal Fisher of a regression model under a unit-variance Gaussian likelihood: `Σₖ E[(∂fₖ/∂θ)²]`,
 * one per-sample pass per output `k` (`pass` runs {@link perSampleDiagonal} or the loop). This is the
 * expected Fisher (targets drawn from the model); the empirical one (squared gradients of the squared
 * error) vanishes as the fit gets good, so a well-trained regime would get no protection. Used for both
 * `labels` settings.
 */
function gaussianFisher(
  model: EngramModel,
  batch: Batch,
  pass: (batch: Batch, objective: SummedObjective) => TensorStore,
): TensorStore {
  const n = batch.y.length;
  const k = (batch.targetValues?.length ?? 0) / Math.max(n, 1);
  let total: TensorStore | undefined;
  for (let c = 0; c < k; c++) {
    const store = pass(batch, (outputs) => tf.sum<tf.Scalar>(tf.slice(outputs, [0, c], [-1, 1])));
    if (!total) {
      total = store;
      continue;
    }
    for (const [key, t] of store) {
      const old = total.get(key);
      total.set(key, old ? tf.add(old, t) : t.clone());
      old?.dispose();
      t.dispose();
    }
  }
  return total ?? new Map<string, tf.Tensor>();
}

/** Regression targets of a (sub-)batch as a tensor, or undefined for a classification batch. */
function valuesOf(batch: Batch): tf.Tensor2D | undefined {
  const v = batch.targetValues;
  if (!v) return undefined;
  const n = batch.y.length;
  return tf.tensor2d(v, [n, v.length / Math.max(n, 1)]);
}

/** Rows `start..end` of a batch (views): inputs, labels, task labels and regression targets. */
function rowsOf(batch: Batch, start: number, end: number): Batch {
  const len = batch.x.length / Math.max(batch.y.length, 1);
  const k = batch.targetValues ? batch.targetValues.length / Math.max(batch.y.length, 1) : 0;
  return {
    x: batch.x.subarray(start * len, end * len),
    y: batch.y.subarray(start, end),
    sampleShape: batch.sampleShape,
    ...(batch.task ? { task: batch.task.subarray(start, end) } : {}),
    ...(batch.targetValues ? { targetValues: batch.targetValues.subarray(start * k, end * k) } : {}),
  };
}

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
  // Regression batches keep their targets (`values`): an arg-max label has no meaning there.
  if (labels === 'true' || batch.targetValues) return tf.tensor1d(batch.y, 'int32');
  const task = batch.task ? { task: batch.task } : {};
  return tf.argMax<tf.Tensor1D>(model.forward(x, { training: false, ...task }), 1);
}

/**
 * Diagonal Fisher by the per-sample loop: for each sample, the squared gradient of its
 * log-likelihood; averaged. Exact for any model, slow. Returns tensors keyed by variable position.
 */
export function fisherPerSample(model: EngramModel, batch: Batch, labels: FisherLabels = 'true'): TensorStore {
  if (batch.targetValues)
    return gaussianFisher(model, batch, (b, objective) => perSampleLoop(model, b, labels, objective, 'square'));
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
  for (let i = 0; i < n; i++) {
    const row = rowsOf(batch, i, i + 1);
    tf.tidy(() => {
      const { x } = inputs(row);
      const y = labelsFor(model, row, x, labels);
      const values = valuesOf(row);
      const task = row.task ? { task: row.task } : {};
      const { grads } = tf.variableGrads(
        () => objective(model.forward(x, { training: false, ...task }), y, values),
        vars,
      );
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
 * log-likelihood — in batched passes for stacks and graphs of Dense and Conv2D layers (see
 * `chunkSums`), the per-sample loop ({@link fisherPerSample}) for any other model.
 */
export function diagonalFisher(
  model: EngramModel,
  batch: Batch,
  labels: FisherLabels = 'true',
  chunk = 256,
): TensorStore {
  if (batch.targetValues)
    return gaussianFisher(model, batch, (b, objective) =>
      perSampleDiagonal(model, b, labels, objective, 'square', chunk),
    );
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
  const step = passSize(plan, chunk);
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    const part = rowsOf(batch, start, end);
    tf.tidy(() => {
      const { x } = inputs(part);
      const y = labelsFor(model, part, x, labels);
      const values = valuesOf(part);
      const task = part.task ? { task: part.task } : {};
      const add = chunkSums(
        plan,
        x,
        (logits) => objective(plan.mapper.mapLogits(logits, { training: false, ...task }), y, values),
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
