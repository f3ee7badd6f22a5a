import * as tf from '@tensorflow/tfjs';
import { batchedFisherApplies, diagonalFisher } from '@engram/strategies';
import { buildBenchModel, type StackBenchModel } from './bench-models.js';
import { hostBatches } from './online-source.js';

/** Time of one EWC Fisher estimate. */
export interface FisherBenchResult {
  readonly samples: number;
  readonly seconds: number;
  /** `batched`: the exact outer-product pass for Dense networks; `per-sample`: the loop any model takes. */
  readonly method: 'batched' | 'per-sample';
}

/**
 * Seconds of the diagonal Fisher EWC computes at an experience end (`diagonalFisher` of
 * `@engram/strategies`, empirical labels, as `ewc` calls it) on `samples` random images, until every
 * Fisher value is on the host. The model is freshly initialised (the Fisher's cost does not depend on
 * the weights' values).
 */
export async function fisherBench(model: StackBenchModel, samples = 1000): Promise<FisherBenchResult> {
  const net = await buildBenchModel(model);
  const parts = hostBatches(Math.ceil(samples / 8), 3);
  const x = new Float32Array(samples * 784);
  const y = new Int32Array(samples);
  for (let i = 0; i < samples; i++) {
    const part = parts[i % 8];
    const row = Math.floor(i / 8);
    if (!part) continue;
    x.set(part.x.subarray(row * 784, (row + 1) * 784), i * 784);
    y[i] = part.y[row] ?? 0;
  }
  try {
    // A warm-up estimate of one chunk (256 samples, as the estimate proceeds), so kernel set-up and the
    // backend's first growth of its memory — paid once per process, by training in a real run — are not counted.
    const warm = Math.min(samples, 256);
    tf.dispose([
      ...diagonalFisher(net, {
        x: x.subarray(0, warm * 784),
        y: y.subarray(0, warm),
        sampleShape: [28, 28, 1],
      }).values(),
    ]);
    const t0 = performance.now();
    const fisher = diagonalFisher(net, { x, y, sampleShape: [28, 28, 1] });
    for (const t of fisher.values()) t.dataSync();
    const seconds = (performance.now() - t0) / 1000;
    tf.dispose([...fisher.values()]);
    return { samples, seconds, method: batchedFisherApplies(net) ? 'batched' : 'per-sample' };
  } finally {
    net.dispose();
  }
}
