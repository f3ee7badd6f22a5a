import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corePlugin, preparePipeline, runPipeline, type EngramEvent, type PluginManifest } from '@engram/core';
import { benchModelSpec, type BenchModel } from './bench-models.js';
import { benchPlugin } from './bench.plugin.js';
import { BareLoop } from './bare-loop.bench.js';
import { barePairedPlugin, EngineBarePairing } from './engine-over-bare.js';
import { alternatingEwcPlugin, BlockAlternation } from './ewc-alternation.js';

/** What one engine benchmark run measured. */
export interface EngineBenchResult {
  readonly samplesPerSecond: number;
  readonly backend: string;
}

/**
 * Samples/s of a full `engram run` training path: pipeline validation, the pulled batch stream,
 * preprocessing, strategy hooks, events, on random images. Measured from the measured experience's
 * `epoch-start` to `epoch-end` events, so data pulls, batch copies and hook calls all count.
 */
export async function engineSamplesPerSecond(
  model: BenchModel,
  batch: number,
  samples: number,
  ewc: boolean,
): Promise<EngineBenchResult> {
  let start = 0;
  let end = 0;
  const backend = await runBench(
    model,
    batch,
    samples,
    ewc ? { kind: 'ewc', lambda: 50 } : { kind: 'bench-naive' },
    [],
    (e) => {
      if (e.type === 'epoch-start' && e.experience === 1) start = e.time;
      if (e.type === 'epoch-end' && e.experience === 1) end = e.time;
    },
  );
  return { samplesPerSecond: samples / ((end - start) / 1000), backend };
}

/**
 * EWC on ÷ off as a paired measurement in one `engram run`: the measured experience alternates blocks
 * of `blockSteps` steps with EWC's per-step work (penalty at the optimizer step, Fisher reservoir) and
 * without it (`AlternatingEwc`); the result is the mean off-step time ÷ the mean on-step
 * time, each step timed from the end of the previous one (data pull, preprocessing, hooks, events).
 */
export async function engineEwcOnOverOff(
  model: BenchModel,
  batch: number,
  samples: number,
  blockSteps: number,
): Promise<number> {
  const alternation = new BlockAlternation(blockSteps);
  await runBench(
    model,
    batch,
    samples,
    { kind: 'bench-ewc-alternating', lambda: 50 },
    [alternatingEwcPlugin(alternation)],
    () => undefined,
  );
  return alternation.onOverOff();
}

/** At most this many rows (MNIST's training set) in the datasets of the paired engine ÷ bare run. */
export const PAIRED_DATASET_ROWS = 60_000;

/**
 * Engine ÷ bare loop as a paired measurement in one `engram run` ({@link EngineBarePairing}): blocks of
 * `blockSteps` engine steps alone alternate with blocks where each engine step is followed by a bare
 * loop step on its own model; the result is the mean bare step time ÷ the mean engine step time.
 * Both sides train on a shuffled dataset of the same size — `samples` rows, at most
 * {@link PAIRED_DATASET_ROWS} (whole batches), in as many passes (epochs) as `samples` needs — so both
 * copy each batch's rows out of a dataset of a realistic size, and the ratio is the engine's own cost.
 */
export async function engineOverBarePaired(
  model: BenchModel,
  batch: number,
  samples: number,
  blockSteps: number,
): Promise<number> {
  const rows = Math.min(samples, Math.max(batch, Math.floor(PAIRED_DATASET_ROWS / batch) * batch));
  const loop = await BareLoop.create(model, batch, rows);
  try {
    for (let i = 0; i < 5; i++) loop.step();
    const pairing = new EngineBarePairing(loop, blockSteps);
    await runBench(model, batch, rows, { kind: 'bench-bare-paired' }, [barePairedPlugin(pairing)], () => undefined, {
      epochs: Math.ceil(samples / rows),
    });
    return pairing.engineOverBare();
  } finally {
    loop.dispose();
  }
}

/**
 * Runs the two-experience benchmark pipeline with `strategy` (`samples` rows in the measured experience,
 * `options.epochs` passes over them, default 1), passing every event to `onEvent`; returns the backend's description.
 */
async function runBench(
  model: BenchModel,
  batch: number,
  samples: number,
  strategy: { kind: string; lambda?: number },
  plugins: PluginManifest[],
  onEvent: (e: EngramEvent) => void,
  options: { readonly epochs?: number } = {},
): Promise<string> {
  const ewc = strategy.kind === 'ewc';
  const spec = benchModelSpec(model);
  const doc = {
    name: `bench-${model}${ewc ? '-ewc' : ''}`,
    seed: 0,
    backend: 'auto',
    plugins: ewc ? ['@engram/strategies'] : [],
    data: {
      kind: 'bench-random',
      warmupSamples: 4 * batch,
      samples,
      sampleShape: spec.sampleShape,
      ...(spec.vocabulary ? { vocabulary: spec.vocabulary } : {}),
    },
    model: spec.model,
    optimizer: { type: 'adam', learningRate: 0.001 },
    strategy,
    training: { epochs: options.epochs ?? 1, batchSize: batch, shuffle: true, logEvery: 1000000 },
    evaluation: { every: 'never', initial: false },
    checkpoint: { enabled: false },
  };
  const out = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  try {
    const loaded = await preparePipeline(doc, join(process.cwd(), 'bench.pipeline.json'), {
      builtins: [corePlugin, benchPlugin, ...plugins],
    });
    const outcome = await runPipeline(loaded, { outDir: out, observe: (events$) => events$.subscribe(onEvent) });
    return outcome.backend.description;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
