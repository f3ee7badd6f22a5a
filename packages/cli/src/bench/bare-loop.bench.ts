import * as tf from '@tensorflow/tfjs';
import { buildModel, crossEntropy, Rng } from '@engram/core';
import { BENCH_MODELS } from './bench-models.js';

/**
 * Samples/s of the plainest tfjs training loop for a benchmark model: fixed random tensors,
 * `tf.variableGrads` + Adam `applyGradients`, no data pipeline, no events. The engine's overhead is
 * measured against it.
 */
export async function bareLoopSamplesPerSecond(model: 'mlp' | 'cnn', batch: number, steps: number): Promise<number> {
  const net = await buildModel({ layers: BENCH_MODELS[model] }, { inputShape: [28, 28, 1], outputs: 10, rng: new Rng(0), baseDir: '.' });
  const optimizer = tf.train.adam(1e-3);
  const rng = new Rng(1);
  const x = tf.tensor4d(Float32Array.from({ length: batch * 784 }, () => rng.next()), [batch, 28, 28, 1]);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.int(10)), 'int32');
  const step = (): void => {
    const vars = net.trainableVariables();
    const { value, grads } = tf.variableGrads(() => crossEntropy(net.forward(x, { training: true }) as tf.Tensor2D, y), vars);
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    value.dataSync();
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  };
  for (let i = 0; i < 5; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const rate = (steps * batch) / ((performance.now() - t0) / 1000);
  x.dispose();
  y.dispose();
  optimizer.dispose();
  net.dispose();
  return rate;
}
