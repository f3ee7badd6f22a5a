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

/** Rows of a bare loop's dataset unless asked otherwise: eight batches. */
const DEFAULT_BATCHES = 8;

/**
 * The plainest tfjs training loop for a benchmark model, written as anyone would write one over an
 * in-memory dataset: each pass draws a seeded permutation of the rows, each step copies its batch's rows
 * into a fresh host array (as a data loader with shuffling must) and uploads it with `tf.tensor`, then
 * `tf.variableGrads` + Adam `applyGradients`; no data pipeline, no hooks, no events. The engine's overhead
 * is measured against it, either alone ({@link bareLoopSamplesPerSecond}) or step by step inside an
 * engine run (`engine-over-bare.ts`), on a dataset of the same size as the engine's.
 */
export class BareLoop {
  private order: Int32Array = new Int32Array(0);
  private cursor = 0;
  private pass = 0;
  private readonly rowLength: number;

  private constructor(
    private readonly net: EngramModel,
    private readonly optimizer: tf.Optimizer,
    private readonly batch: number,
    private readonly sampleShape: readonly number[],
    private readonly data: { readonly x: Float32Array; readonly y: Int32Array },
  ) {
    this.rowLength = sampleShape.reduce((a, b) => a * b, 1);
  }

  /**
   * Builds the model (seeded as the engine's bench runs are) and a dataset of `rows` random samples
   * (default eight batches).
   */
  static async create(model: BenchModel, batch: number, rows = DEFAULT_BATCHES * batch): Promise<BareLoop> {
    const spec = benchModelSpec(model);
    const net = await buildBenchModel(model);
    const optimizer = await accelerated(tf.train.adam(1e-3));
    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const data = randomHostBatch(new Rng(1), Math.max(batch, rows), all, spec);
    return new BareLoop(net, optimizer, batch, [...spec.sampleShape], data);
  }

  /** The next batch's rows, copied out of the dataset in this pass's shuffled order. */
  private nextBatch(): { x: Float32Array; y: Int32Array } {
    const n = this.data.y.length;
    if (this.cursor + this.batch > this.order.length) {
      this.order = new Rng(1).derive(`pass:${this.pass++}`).permutation(n);
      this.cursor = 0;
    }
    const len = this.rowLength;
    const x = new Float32Array(this.batch * len);
    const y = new Int32Array(this.batch);
    for (let i = 0; i < this.batch; i++) {
      const r = this.order[this.cursor + i] as number;
      x.set(this.data.x.subarray(r * len, (r + 1) * len), i * len);
      y[i] = this.data.y[r] as number;
    }
    this.cursor += this.batch;
    return { x, y };
  }

  /** One optimizer step on the next batch; returns when its loss has been read back (as the engine's step). */
  step(): void {
    const host = this.nextBatch();
    const x = tf.tensor(host.x, [this.batch, ...this.sampleShape]);
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

/** Samples/s of {@link BareLoop} alone on a dataset of `steps` batches: 5 warm-up steps, then `steps` timed steps. */
export async function bareLoopSamplesPerSecond(model: BenchModel, batch: number, steps: number): Promise<number> {
  const loop = await BareLoop.create(model, batch, steps * batch);
  try {
    for (let i = 0; i < 5; i++) loop.step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) loop.step();
    return (steps * batch) / ((performance.now() - t0) / 1000);
  } finally {
    loop.dispose();
  }
}
