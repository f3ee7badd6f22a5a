import * as tf from '@tensorflow/tfjs';
import type { Batch, EngramModel } from '@engram/core';
import { logitMapperOf, type LogitMapper } from '../common/head-logits.js';
import { keyByPosition, type TensorStore } from '../common/tensor-state.js';

/** Which labels the Fisher's log-likelihood uses: the data's (empirical Fisher) or the model's argmax. */
export type FisherLabels = 'true' | 'predicted';

/** A per-sample objective summed over the batch: `Σₙ ℓ(logitsₙ, labelsₙ)`. */
export type SummedObjective = (logits: tf.Tensor, labels: tf.Tensor1D) => tf.Scalar;

/** How per-sample gradients are reduced: squared (Fisher) or absolute (MAS). */
export type PerSampleReduce = 'square' | 'abs';

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
  return tf.argMax(model.forward(x, { training: false, ...task }), 1) as tf.Tensor1D;
}

/**
 * Diagonal Fisher by the per-sample loop: for each sample, the squared gradient of its
 * log-likelihood; averaged. Exact for any model, slow. Returns tensors keyed by variable position.
 */
export function fisherPerSample(model: EngramModel, batch: Batch, labels: FisherLabels = 'true'): TensorStore {
  return perSampleLoop(model, batch, labels, summedCrossEntropy, 'square');
}

/** Mean over samples of `reduce(∂ℓₙ/∂θ)` by a loop over single samples (any model). */
export function perSampleLoop(model: EngramModel, batch: Batch, labels: FisherLabels, objective: SummedObjective, reduce: PerSampleReduce): TensorStore {
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
    sums.set(k, tf.tidy(() => tf.div(t, Math.max(n, 1))));
    t.dispose();
  }
  return keyByPosition(sums, vars);
}

interface DensePlan {
  readonly layers: readonly tf.layers.Layer[];
  readonly mapper: LogitMapper;
}

/** The layer chain when every layer with weights is a Dense layer on rank-2 input; otherwise undefined. */
function densePlan(model: EngramModel): DensePlan | undefined {
  const mapper = logitMapperOf(model);
  if (!mapper || model.network.getClassName() !== 'Sequential') return undefined;
  const trainable = new Set(model.trainableVariables().map((v) => v.name));
  for (const layer of model.network.layers) {
    if (layer.weights.length === 0) continue;
    if (layer.getClassName() !== 'Dense') return undefined;
    const inShape = layer.inputSpec?.[0]?.ndim ?? (layer.input as tf.SymbolicTensor).shape.length;
    if (inShape !== 2) return undefined;
    if (!layer.weights.every((w) => trainable.has((w.read() as tf.Variable).name))) return undefined;
  }
  return { layers: model.network.layers.filter((l) => l.getClassName() !== 'InputLayer'), mapper };
}

/** True when {@link perSampleDiagonal} can use the batched outer-product pass for `model`. */
export function batchedFisherApplies(model: EngramModel): boolean {
  return densePlan(model) !== undefined;
}

/**
 * Exact diagonal Fisher in one batched pass for networks of Dense layers: with
 * `z = a·W + b` per sample, the per-sample gradient of `W` is the outer product `aᵀ·δ`, so the sum of
 * its squares over samples is `(a²)ᵀ·(δ²)`, where `δ` = ∂(summed loss)/∂z, obtained through zero
 * probes added to each `z`. Falls back to {@link fisherPerSample} for other models.
 */
export function diagonalFisher(model: EngramModel, batch: Batch, labels: FisherLabels = 'true', chunk = 256): TensorStore {
  return perSampleDiagonal(model, batch, labels, summedCrossEntropy, 'square', chunk);
}

/**
 * Mean over samples of `reduce(∂ℓₙ/∂θ)` for a summed objective: batched outer products for Dense
 * networks (`Σₙ |aₙδₙ| = |A|ᵀ|Δ|` works like the squares), the per-sample loop otherwise.
 */
export function perSampleDiagonal(
  model: EngramModel, batch: Batch, labels: FisherLabels, objective: SummedObjective, reduce: PerSampleReduce, chunk = 256,
): TensorStore {
  const plan = densePlan(model);
  if (!plan) return perSampleLoop(model, batch, labels, objective, reduce);
  const vars = model.trainableVariables();
  const sums = new Map<string, tf.Tensor>(vars.map((v) => [v.name, tf.zerosLike(v)]));
  const n = batch.y.length;
  const len = batch.x.length / Math.max(n, 1);
  const activations = new Map<tf.layers.Layer, tf.layers.Layer>();
  for (const layer of plan.layers) {
    if (layer.getClassName() === 'Dense') {
      const act = (layer.getConfig() as { activation?: string }).activation ?? 'linear';
      activations.set(layer, tf.layers.activation({ activation: act as 'linear' }));
    }
  }
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const part: Batch = {
      x: batch.x.subarray(start * len, end * len),
      y: batch.y.subarray(start, end),
      sampleShape: batch.sampleShape,
      ...(batch.task ? { task: batch.task.subarray(start, end) } : {}),
    };
    tf.tidy(() => {
      const { x, n: m } = inputs(part);
      const y = labelsFor(model, part, x, labels);
      const task = part.task ? { task: part.task } : {};
      const dense = plan.layers.filter((l) => l.getClassName() === 'Dense');
      const probes = dense.map((l) => tf.zeros([m, (l.getConfig() as { units: number }).units]));
      const acts: tf.Tensor[] = [];
      const f = (...ps: tf.Tensor[]): tf.Scalar => {
        let h: tf.Tensor = x;
        let k = 0;
        for (const layer of plan.layers) {
          if (layer.getClassName() !== 'Dense') {
            h = layer.apply(h, { training: false }) as tf.Tensor;
            continue;
          }
          acts.push(tf.keep(h));
          const kernel = layer.weights.find((w) => w.shape.length === 2)?.read() as tf.Tensor;
          const bias = layer.weights.find((w) => w.shape.length === 1)?.read();
          let z = tf.add(tf.matMul(h, kernel), ps[k++] as tf.Tensor);
          if (bias) z = tf.add(z, bias);
          h = (activations.get(layer) as tf.layers.Layer).apply(z) as tf.Tensor;
        }
        return objective(plan.mapper.mapLogits(h, { training: false, ...task }), y);
      };
      const deltas = tf.grads(f)(probes);
      dense.forEach((layer, i) => {
        const op = reduce === 'square' ? tf.square : tf.abs;
        const a2 = op(acts[i] as tf.Tensor);
        const d2 = op(deltas[i] as tf.Tensor);
        for (const w of layer.weights) {
          const name = (w.read() as tf.Variable).name;
          const old = sums.get(name) as tf.Tensor;
          const add = w.shape.length === 2 ? tf.matMul(tf.transpose(a2), d2) : tf.sum(d2, 0);
          sums.set(name, tf.keep(tf.add(old, add)));
          old.dispose();
        }
      });
      for (const a of acts) a.dispose();
    });
  }
  for (const [k, t] of sums) {
    sums.set(k, tf.tidy(() => tf.div(t, Math.max(n, 1))));
    t.dispose();
  }
  return keyByPosition(sums, vars);
}
