import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import type { Experience } from '../data/experience.js';
import type { EvaluationResult } from '../events/engram-event.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import { batchTensors } from '../training/batch-tensors.js';
import { perSampleCrossEntropy } from '../training/loss.js';

/** Per-sample outcome of a forward pass without training. */
export interface Predictions {
  readonly losses: Float32Array;
  readonly predicted: Int32Array;
}

/** Class scores `[n, classes]` from inputs, replacing the model's logits for predictions (iCaRL's NME). */
export type Predictor = (x: tf.Tensor) => tf.Tensor;

/**
 * Forward pass in inference mode: per-sample loss and predicted class. With a `predictor` (a
 * strategy's, see `Strategy.predictor`) the prediction is the arg-max of its scores; the loss stays
 * the model's cross-entropy.
 */
export function predict(model: EngramModel, batch: Batch, predictor?: Predictor): Predictions {
  const [losses, predicted] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
    const t = batchTensors(batch);
    const logits = model.forward(t.x, { training: false, ...(batch.task ? { task: batch.task } : {}) }) as tf.Tensor2D;
    return [perSampleCrossEntropy(logits, t.y, t.targets), tf.argMax(predictor ? predictor(t.x) : logits, -1)];
  });
  const out = { losses: losses.dataSync() as Float32Array, predicted: Int32Array.from(predicted.dataSync()) };
  losses.dispose();
  predicted.dispose();
  return out;
}

/**
 * Evaluates the model on the test sets of `experiences`: accuracy, mean loss, per-class counts.
 * `prepare` applies the pipeline's preprocessing (test phase) to each batch; `predictor` replaces the
 * model's arg-max (see {@link predict}). `between` is awaited after every batch (a serving run turns
 * the event loop there, see `LoopTurns`); it must not touch the model.
 */
export async function evaluate(
  model: EngramModel,
  experiences: readonly Experience[],
  numClasses: number,
  batchSize: number,
  prepare: (batch: Batch) => Batch,
  predictor?: Predictor,
  between?: () => Promise<void>,
): Promise<EvaluationResult[]> {
  const results: EvaluationResult[] = [];
  for (const exp of experiences) {
    if (!exp.test) continue;
    const perClassCorrect = new Array<number>(numClasses).fill(0);
    const perClassCount = new Array<number>(numClasses).fill(0);
    const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
    let correct = 0;
    let count = 0;
    let lossSum = 0;
    for await (const raw of exp.test.batches({ batchSize, shuffle: false, epoch: 0, seed: 0 })) {
      const batch = prepare(raw);
      const p = predict(model, batch, predictor);
      for (let i = 0; i < batch.y.length; i++) {
        const label = batch.y[i] as number;
        const ok = p.predicted[i] === label;
        if (ok) correct++;
        const guess = p.predicted[i] as number;
        const row = confusion[label];
        if (row && guess >= 0 && guess < numClasses) row[guess] = (row[guess] ?? 0) + 1;
        if (label >= 0 && label < numClasses) {
          perClassCount[label] = (perClassCount[label] ?? 0) + 1;
          if (ok) perClassCorrect[label] = (perClassCorrect[label] ?? 0) + 1;
        }
        lossSum += p.losses[i] as number;
      }
      count += batch.y.length;
      await between?.();
    }
    results.push({
      experience: exp.index,
      accuracy: count ? correct / count : 0,
      loss: count ? lossSum / count : 0,
      count,
      perClassCorrect,
      perClassCount,
      confusion,
    });
  }
  return results;
}
