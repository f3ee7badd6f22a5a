/**
 * Training-speed benchmark of the native kernels: samples/s of the MLP 784-400-400-10 and the CNN
 * (batch 128, Adam 1e-3, softmax cross-entropy) on plain wasm vs wasm + native, interleaved in one process,
 * optionally beside PyTorch (`--pytorch <path to torch_speed.py>`, run with /usr/bin/python3).
 *
 * Usage: node dist/bench/native.bench.js [--models mlp,cnn] [--steps 100] [--rounds 3] [--pytorch path]
 *        [--core-rewrites packages/core/dist/backend/wasm-gradients.js] [--json]
 * With --core-rewrites, stock wasm is measured once first, then Engram's wasm rewrites are installed and
 * become the interleaved pure-wasm baseline (`wasm`), as in a real `engram run` without native kernels.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { load, unload } from '../index.js';
import { useWasmNative } from '../testing/backend-harness.js';
import { createCnn, createMlp, syntheticBatch, trainStep, type TrainableModel } from '../testing/bench-models.js';

interface Options {
  readonly steps: number;
  readonly rounds: number;
  readonly pytorch: string | undefined;
  readonly json: boolean;
  readonly models: Array<'mlp' | 'cnn'>;
  /** Path to core's compiled wasm-gradients.js: its rewrites become the pure-wasm baseline. */
  readonly coreRewrites: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    steps: Number(value('--steps') ?? 100),
    rounds: Number(value('--rounds') ?? 3),
    pytorch: value('--pytorch'),
    json: argv.includes('--json'),
    coreRewrites: value('--core-rewrites'),
    models: (value('--models') ?? 'mlp,cnn').split(',').filter((m): m is 'mlp' | 'cnn' => m === 'mlp' || m === 'cnn'),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

type ModelName = 'mlp' | 'cnn';

/** samples/s of `steps` training steps (batch 128, Adam 1e-3) after a short warm-up; NaN if it fails. */
function samplesPerSecond(name: ModelName, steps: number): number {
  const model: TrainableModel & { dispose(): void } = name === 'mlp' ? createMlp([784, 400, 400, 10], 1) : createCnn(1);
  const opt = tf.train.adam(1e-3);
  const batch = syntheticBatch(128, 784, 10, 2);
  const x = name === 'mlp' ? batch.x : batch.x.reshape([128, 28, 28, 1]);
  try {
    for (let i = 0; i < 3; i++) trainStep(model, opt, x, batch.y);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainStep(model, opt, x, batch.y);
    return (steps * 128) / ((performance.now() - t0) / 1000);
  } catch (e) {
    console.error(`${name} on ${tf.getBackend()}: ${(e as Error).message.split('\n')[0] ?? ''}`);
    return Number.NaN;
  } finally {
    model.dispose();
    opt.dispose();
    tf.dispose([x, batch.x, batch.y]);
  }
}

function pytorchSamplesPerSecond(script: string, model: ModelName): number | undefined {
  const run = spawnSync('/usr/bin/python3', [script, '--model', model, '--threads', '2', ...(model === 'cnn' ? ['--steps', '30'] : [])], { encoding: 'utf8' });
  if (run.status !== 0) {
    console.error(`pytorch reference failed: ${(run.stderr || run.error?.message || '').split('\n').slice(-2).join(' ')}`);
    return undefined;
  }
  const line = run.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as { samples_per_s?: number };
  return parsed.samples_per_s;
}

interface Series {
  stock: number[];
  wasm: number[];
  native: number[];
  pytorch: number[];
}

function summarise(series: Series) {
  const wasm = median(series.wasm), native = median(series.native), torch = median(series.pytorch);
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x) : null);
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? Number((a / b).toFixed(2)) : null);
  return {
    stockWasm: r(median(series.stock)), wasm: r(wasm), native: r(native), nativeBest: r(Math.max(...series.native)), pytorch: r(torch),
    nativeOverWasm: ratio(native, wasm), nativeVsPytorch: ratio(native, torch),
    rounds: { wasm: series.wasm.map(Math.round), native: series.native.map(Math.round), pytorch: series.pytorch.map(Math.round) },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const loaded = await useWasmNative();
  const models: ModelName[] = options.models;
  const series: Record<ModelName, Series> = {
    mlp: { stock: [], wasm: [], native: [], pytorch: [] },
    cnn: { stock: [], wasm: [], native: [], pytorch: [] },
  };
  const baselineSteps = (model: ModelName) => Math.max(3, Math.round(options.steps / (model === 'mlp' ? 10 : 50)));
  if (options.coreRewrites) {
    unload();
    for (const model of models) series[model].stock.push(samplesPerSecond(model, baselineSteps(model)));
    const core = (await import(pathToFileURL(resolve(options.coreRewrites)).href)) as { registerWasmGradients(): void };
    core.registerWasmGradients();
    if (loaded.loaded) load();
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const model of models) {
      const steps = model === 'mlp' ? options.steps : Math.max(5, Math.round(options.steps / 5));
      const s = series[model];
      unload();
      // Stock wasm gets fewer steps: it is ~20x slower (and cannot train the CNN: no Conv2DBackpropFilter).
      s.wasm.push(samplesPerSecond(model, options.coreRewrites ? Math.round(steps / 4) : baselineSteps(model)));
      if (loaded.loaded) load();
      s.native.push(samplesPerSecond(model, steps));
      const torch = options.pytorch ? pytorchSamplesPerSecond(options.pytorch, model) : undefined;
      if (torch !== undefined) s.pytorch.push(torch);
    }
  }
  const backend = loaded.loaded ? `wasm+${loaded.description}` : `wasm (${loaded.description})`;
  const result = { backend, ...Object.fromEntries(models.map((m) => [m, summarise(series[m])])) };
  if (options.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`backend: ${backend}; batch 128, Adam; samples/s, median of ${options.rounds} interleaved rounds`);
  for (const m of models) {
    const x = summarise(series[m]);
    const stock = options.coreRewrites ? `stock wasm ${x.stockWasm ?? 'fails'} | wasm+rewrites ` : 'wasm ';
    console.log(`${m.toUpperCase()}: ${stock}${x.wasm ?? 'fails'} | wasm+native ${x.native} (best ${x.nativeBest}) | ` +
      `native/wasm ${x.nativeOverWasm ?? 'n/a'}` + (x.pytorch !== null ? ` | PyTorch ${x.pytorch} | native/PyTorch ${x.nativeVsPytorch}` : ''));
  }
}

await main();
