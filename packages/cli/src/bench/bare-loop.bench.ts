import * as tf from '@tensorflow/tfjs';
import { crossEntropy, Rng, type EngramModel } from '@engram/core';
import { EngramBatchNormalization } from '@engram/core/internal';
import { benchModelSpec, buildBenchModel, type BenchModel } from './bench-models.js';
import { randomHostBatch } from './bench.plugin.js';

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
 * The plainest tfjs training loop for a benchmark model: host batches of random images uploaded with
 * `tf.tensor` at every step (as any loop over data must), `tf.variableGrads` + Adam `applyGradients`,
 * no data pipeline, no hooks, no events. The engine's overhead is measured against it, either alone
 * ({@link bareLoopSamplesPerSecond}) or step by step inside an engine run (`engine-over-bare.ts`).
 */
export class BareLoop {
  private next = 0;

  private constructor(
    private readonly net: EngramModel,
    private readonly optimizer: tf.Optimizer,
    private readonly shape: readonly number[],
    private readonly hostBatches: ReadonlyArray<{ x: Float32Array; y: Int32Array }>,
  ) {}

  /** Builds the model (seeded as the engine's bench runs are) and eight host batches of random samples. */
  static async create(model: BenchModel, batch: number): Promise<BareLoop> {
    const spec = benchModelSpec(model);
    const net = await buildBenchModel(model);
    const optimizer = await accelerated(tf.train.adam(1e-3));
    const rng = new Rng(1);
    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const hostBatches = Array.from({ length: 8 }, () => randomHostBatch(rng, batch, all, spec));
    return new BareLoop(net, optimizer, [batch, ...spec.sampleShape], hostBatches);
  }

  /** One optimizer step on the next host batch; returns when its loss has been read back (as the engine's step). */
  step(): void {
    const host = this.hostBatches[this.next++ % this.hostBatches.length];
    if (!host) return;
    const x = tf.tensor(host.x, [...this.shape]);
    const y = tf.tensor1d(host.y, 'int32');
    const vars = this.net.trainableVariables();
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(this.net.forward(x, { training: true }) as tf.Tensor2D, y),
      vars,
    );
    this.optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    value.dataSync();
    tf.dispose([value, x, y, ...Object.values(grads)]);
  }

  /**
   * Makes the model's batch-norm layers train through core's fused op (`true`, the default) or
   * tfjs-layers' own composition (`false`), to compare the two; returns how many layers it set.
   */
  useFusedBatchNorm(on: boolean): number {
    const layers = this.net.network.layers.filter((l) => l instanceof EngramBatchNormalization);
    for (const l of layers) l.fusedTraining = on;
    return layers.length;
  }

  /** Releases the model's and the optimizer's tensors. */
  dispose(): void {
    this.optimizer.dispose();
    this.net.dispose();
  }
}

/** Samples/s of {@link BareLoop} alone: 5 warm-up steps, then `steps` timed steps. */
export async function bareLoopSamplesPerSecond(model: BenchModel, batch: number, steps: number): Promise<number> {
  const loop = await BareLoop.create(model, batch);
  try {
    for (let i = 0; i < 5; i++) loop.step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) loop.step();
    return (steps * batch) / ((performance.now() - t0) / 1000);
  } finally {
    loop.dispose();
  }
}
