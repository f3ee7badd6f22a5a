import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { corePlugin, crossEntropy, perSampleCrossEntropy, preparePipeline, runPipeline } from '@engram/core';
import { BENCH_MODELS, buildBenchModel } from './bench-models.js';
import { benchPlugin } from './bench.plugin.js';
import { hostBatches, onlineBenchPlugin, PullClock } from './online-source.js';
import { accelerated } from './bare-loop.bench.js';

/** Step times (ms) of one online run, warm-up steps excluded. */
export interface StepTimes {
  readonly stepMs: number[];
}

/** Step times of an engine run, with what the run reported about itself. */
export interface EngineStepTimes extends StepTimes {
  /** The engine's mode from `run-start` (`stream` for this benchmark's endless source). */
  readonly mode: string;
  /** Optimizer steps the run made (`run-end.steps`): warm-up + measured. */
  readonly trainedSteps: number;
  /** `prequential` events seen (one per `logEvery` test-then-train steps). */
  readonly prequentialEvents: number;
}

/**
 * Step times of prequential learning through the engine's real stream path: `runPipeline` on a
 * pipeline whose source is endless (stream mode), so each batch goes through the train stage's
 * `trainStream` — preprocess, `EvaluateStage.testThenTrain` (predict, per-sample loss, prequential
 * accuracy), the trainer's step (strategy hooks, forward/backward, optimizer), `batch-end` and
 * `prequential` events every `logEvery` (default 10) steps with `metrics.jsonl` recording, the
 * checkpoint schedule check, and the pull of the next batch. A step is the time between two pulls of
 * the source. MLP 784-400-400-10, Adam 1e-3, plain fine-tuning, no drift detector, checkpoints off,
 * every other setting at its default.
 */
export async function engineOnlineSteps(batch: number, steps: number, warmup: number): Promise<EngineStepTimes> {
  const clock = new PullClock();
  const doc = {
    name: `bench-online-${batch}`,
    seed: 0,
    backend: 'auto',
    plugins: [],
    data: { kind: 'bench-online', batch, steps: warmup + steps },
    model: { layers: BENCH_MODELS.mlp },
    optimizer: { type: 'adam', learningRate: 0.001 },
    strategy: { kind: 'bench-naive' },
    training: { batchSize: batch },
    checkpoint: { enabled: false },
  };
  const out = mkdtempSync(join(tmpdir(), 'engram-online-bench-'));
  let mode = '';
  let trainedSteps = 0;
  let prequentialEvents = 0;
  try {
    const loaded = await preparePipeline(doc, join(process.cwd(), 'bench.pipeline.json'), {
      builtins: [corePlugin, benchPlugin, onlineBenchPlugin(clock)],
    });
    await runPipeline(loaded, {
      outDir: out,
      observe: (events$) =>
        events$.subscribe((e) => {
          if (e.type === 'run-start') mode = e.mode;
          if (e.type === 'run-end') trainedSteps = e.steps;
          if (e.type === 'prequential') prequentialEvents++;
        }),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return { stepMs: clock.steps(warmup), mode, trainedSteps, prequentialEvents };
}

/**
 * Step times of the same prequential step as bare tfjs, with nothing around it: upload the host
 * batch, forward in inference mode, read the per-sample losses and predicted classes back, then
 * `tf.variableGrads` + Adam `applyGradients` (natively, as in the engine, when `@engram/native` is
 * installed) and read the loss back. The engine's overhead per step
 * (stages, events, metrics, the pull) is measured against it.
 */
export async function bareOnlineSteps(batch: number, steps: number, warmup: number): Promise<StepTimes> {
  const net = await buildBenchModel('mlp');
  // The engine's Adam runs natively when @engram/native is installed: the bare step must too.
  const optimizer = await accelerated(tf.train.adam(1e-3));
  const data = hostBatches(batch, 0);
  const vars = net.trainableVariables();
  const step = (k: number): void => {
    const host = data[k % data.length];
    if (!host) return;
    const x = tf.tensor4d(host.x, [batch, 28, 28, 1]);
    const y = tf.tensor1d(host.y, 'int32');
    const [losses, predicted] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const logits = net.forward(x, { training: false }) as tf.Tensor2D;
      return [perSampleCrossEntropy(logits, y), tf.argMax(logits, -1)];
    });
    const lossValues = losses.dataSync();
    const classes = predicted.dataSync();
    let correct = 0;
    for (let i = 0; i < batch; i++) if (classes[i] === host.y[i]) correct++;
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(net.forward(x, { training: true }) as tf.Tensor2D, y),
      vars,
    );
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    value.dataSync();
    tf.dispose([value, x, y, losses, predicted, ...Object.values(grads)]);
    if (correct < 0 || lossValues.length !== batch) throw new Error('bare online step: wrong prediction size');
  };
  const stepMs: number[] = [];
  try {
    for (let k = 0; k < warmup; k++) step(k);
    for (let k = 0; k < steps; k++) {
      const t0 = performance.now();
      step(k);
      stepMs.push(performance.now() - t0);
    }
  } finally {
    optimizer.dispose();
    net.dispose();
  }
  return { stepMs };
}
