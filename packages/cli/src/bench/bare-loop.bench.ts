import * as tf from '@tensorflow/tfjs';
import { buildModel, crossEntropy, Rng } from '@engram/core';
import { BENCH_MODELS, type BenchModel } from './bench-models.js';

/** The optimizer with `@engram/native`'s per-instance update when that package is installed (as the engine's). */
export async function accelerated(optimizer: tf.Optimizer): Promise<tf.Optimizer> {
  const pkg = '@engram/native';
  try {
    const mod = (await import(pkg)) as { accelerateOptimizer?: (o: tf.Optimizer) => tf.Optimizer };
    return mod.accelerateOptimizer?.(optimizer) ?? optimizer;
  } catch {
    return optimizer;
  }
}

/**
 * Samples/s of the plainest tfjs training loop for a benchmark model: host batches of random images
 * uploaded with `tf.tensor` at every step (as any loop over data must), `tf.variableGrads` + Adam
 * `applyGradients`, no data pipeline, no hooks, no events. The engine's overhead is measured against it.
 */
export async function bareLoopSamplesPerSecond(model: BenchModel, batch: number, steps: number): Promise<number> {
  const net = await buildModel(
    { layers: BENCH_MODELS[model] },
    { inputShape: [28, 28, 1], outputs: 10, rng: new Rng(0), baseDir: '.' },
  );
  const optimizer = await accelerated(tf.train.adam(1e-3));
  const rng = new Rng(1);
  const hostBatches = Array.from({ length: 8 }, () => ({
    x: Float32Array.from({ length: batch * 784 }, () => rng.next()),
    y: Int32Array.from({ length: batch }, () => rng.int(10)),
  }));
  let next = 0;
  const step = (): void => {
    const host = hostBatches[next++ % hostBatches.length];
    if (!host) return;
    const x = tf.tensor4d(host.x, [batch, 28, 28, 1]);
    const y = tf.tensor1d(host.y, 'int32');
    const vars = net.trainableVariables();
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(net.forward(x, { training: true }) as tf.Tensor2D, y),
      vars,
    );
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    value.dataSync();
    tf.dispose([value, x, y, ...Object.values(grads)]);
  };
  for (let i = 0; i < 5; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const rate = (steps * batch) / ((performance.now() - t0) / 1000);
  optimizer.dispose();
  net.dispose();
  return rate;
}
