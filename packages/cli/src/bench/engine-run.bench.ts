import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { BENCH_MODELS, type BenchModel } from './bench-models.js';
import { benchPlugin } from './bench.plugin.js';

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
export async function engineSamplesPerSecond(model: BenchModel, batch: number, samples: number, ewc: boolean): Promise<EngineBenchResult> {
  const doc = {
    name: `bench-${model}${ewc ? '-ewc' : ''}`,
    seed: 0,
    backend: 'auto',
    plugins: ewc ? ['@engram/strategies'] : [],
    data: { kind: 'bench-random', warmupSamples: 4 * batch, samples },
    model: { layers: BENCH_MODELS[model] },
    optimizer: { type: 'adam', learningRate: 0.001 },
    strategy: ewc ? { kind: 'ewc', lambda: 50 } : { kind: 'bench-naive' },
    training: { epochs: 1, batchSize: batch, shuffle: true, logEvery: 1000000 },
    evaluation: { every: 'never', initial: false },
    checkpoint: { enabled: false },
  };
  const out = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const loaded = await preparePipeline(doc, join(process.cwd(), 'bench.pipeline.json'), { builtins: [corePlugin, benchPlugin] });
  let start = 0;
  let end = 0;
  const outcome = await runPipeline(loaded, {
    outDir: out,
    observe: (events$) =>
      events$.subscribe((e) => {
        if (e.type === 'epoch-start' && e.experience === 1) start = e.time;
        if (e.type === 'epoch-end' && e.experience === 1) end = e.time;
      }),
  });
  rmSync(out, { recursive: true, force: true });
  return { samplesPerSecond: samples / ((end - start) / 1000), backend: outcome.backend.description };
}
