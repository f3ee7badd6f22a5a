import * as tf from '@tensorflow/tfjs';
import { ArrayBatchSource, type BatchSource } from '../data/batch-source.js';
import { concatBatches, selectRows, type Batch } from '../data/batch.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import { Rng } from '../random/rng.js';
import { countCorrect } from './trainer.js';
import { perSampleCrossEntropy } from './loss.js';

/** An experience's training data split in two: what is trained on, and the held-out validation rows. */
export interface ValidationSplit {
  readonly train: BatchSource;
  readonly validation: Batch;
}

/**
 * Reads `data` once (in its stored order) and holds out `round(fraction · n)` rows (at least 1, at most
 * n − 1) chosen by a permutation of `seed`: the same rows on every call with the same seed, so a resumed
 * experience trains on the same part. Called by `TrainingControls` at an experience's start; the
 * training part is an in-memory source (shuffled per epoch like any other).
 */
export async function splitForValidation(data: BatchSource, fraction: number, seed: number): Promise<ValidationSplit> {
  if (data.endless) throw new Error('training.validation needs finite experiences (a live stream has no epochs)');
  const parts: Batch[] = [];
  for await (const b of data.batches({ batchSize: 4096, shuffle: false, epoch: 0, seed })) parts.push(b);
  if (parts.length === 0) throw new Error('training.validation: the experience has no training data');
  const all = concatBatches(parts);
  const n = all.y.length;
  if (n < 2) throw new Error(`training.validation: the experience has ${n} training sample, too few to hold some out`);
  const held = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const order = new Rng(seed).permutation(n);
  const validation = Int32Array.from(order.subarray(0, held)).sort();
  const train = Int32Array.from(order.subarray(held)).sort();
  return {
    train: new ArrayBatchSource(selectRows(all, train)),
    validation: selectRows(all, validation),
  };
}

/** Mean cross-entropy and accuracy of `model` on `batch` (inference mode, `batchSize` rows at a time). */
export function measureClassification(
  model: EngramModel,
  batch: Batch,
  batchSize: number,
): { loss: number; accuracy: number } {
  const n = batch.y.length;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const rows = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const part = n <= batchSize ? batch : selectRows(batch, rows);
    const { loss, logits } = tf.tidy(() => {
      const x = tf.tensor(part.x, [part.y.length, ...part.sampleShape]);
      const out = model.forward(x, { training: false, ...(part.task ? { task: part.task } : {}) }) as tf.Tensor2D;
      const y = tf.tensor1d(part.y, 'int32');
      return { loss: tf.sum(perSampleCrossEntropy(out, y)).dataSync()[0] ?? NaN, logits: out.dataSync() };
    });
    lossSum += loss;
    correct += countCorrect(logits, part.y);
  }
  return { loss: lossSum / n, accuracy: correct / n };
}
