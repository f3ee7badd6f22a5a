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
import { accelerateOptimizer, load, quadraticPenalty, unload, type QuadraticTerm } from '../index.js';
import { useWasmNative } from '../testing/backend-harness.js';
import { createCnn, createMlp, syntheticBatch, trainStep, type TrainableModel } from '../testing/bench-models.js';

interface Options {
  readonly steps: number;
  readonly rounds: number;
  readonly pytorch: string | undefined;
  readonly json: boolean;
  readonly models: ModelName[];
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
    models: (value('--models') ?? 'mlp,mlp-ewc,cnn')
      .split(',')
      .filter((m): m is ModelName => ['mlp', 'mlp-ewc', 'cnn'].includes(m)),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

type ModelName = 'mlp' | 'mlp-ewc' | 'cnn';

/** samples/s of `steps` training steps (batch 128, Adam 1e-3) after a short warm-up; NaN if it fails. */
function samplesPerSecond(name: ModelName, steps: number): number {
  const model: TrainableModel & { dispose(): void } = name === 'cnn' ? createCnn(1) : createMlp([784, 400, 400, 10], 1);
  const opt = accelerateOptimizer(tf.train.adam(1e-3));
  const batch = syntheticBatch(128, 784, 10, 2);
  const x = name === 'cnn' ? batch.x.reshape([128, 28, 28, 1]) : batch.x;
  // EWC as torch_speed.py --ewc: loss + 50 · Σ F·(θ−θ*)², anchors = the initial weights.
  const terms: QuadraticTerm[] =
    name === 'mlp-ewc'
      ? model.variables.map((v, i) => ({
          param: v,
          anchor: tf.clone(v),
          importance: tf.randomUniform(v.shape, 0, 1, 'float32', 100 + i),
        }))
      : [];
  const penalty = terms.length > 0 ? () => quadraticPenalty(terms, 50) : undefined;
  try {
    for (let i = 0; i < 3; i++) trainStep(model, opt, x, batch.y, penalty);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainStep(model, opt, x, batch.y, penalty);
    return (steps * 128) / ((performance.now() - t0) / 1000);
  } catch (e) {
    console.error(`${name} on ${tf.getBackend()}: ${(e as Error).message.split('\n')[0] ?? ''}`);
    return Number.NaN;
  } finally {
    model.dispose();
    opt.dispose();
    tf.dispose([x, batch.x, batch.y, ...terms.flatMap((t) => [t.anchor, t.importance])]);
  }
}

function pytorchSamplesPerSecond(script: string, model: ModelName): number | undefined {
  const args = [script, '--model', model === 'cnn' ? 'cnn' : 'mlp', '--threads', '2'];
  if (model === 'cnn') args.push('--steps', '30');
  if (model === 'mlp-ewc') args.push('--ewc');
  const run = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  if (run.status !== 0) {
    console.error(
      `pytorch reference failed: ${(run.stderr || run.error?.message || '').split('\n').slice(-2).join(' ')}`,
    );
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
  const wasm = median(series.wasm),
    native = median(series.native),
    torch = median(series.pytorch);
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x) : null);
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? Number((a / b).toFixed(2)) : null);
  return {
    stockWasm: r(median(series.stock)),
    wasm: r(wasm),
    native: r(native),
    nativeBest: r(Math.max(...series.native)),
    pytorch: r(torch),
    nativeOverWasm: ratio(native, wasm),
    nativeVsPytorch: ratio(native, torch),
    rounds: {
      wasm: series.wasm.map(Math.round),
      native: series.native.map(Math.round),
      pytorch: series.pytorch.map(Math.round),
    },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const loaded = await useWasmNative();
  const models: ModelName[] = options.models;
  const series: Record<ModelName, Series> = {
    mlp: { stock: [], wasm: [], native: [], pytorch: [] },
    'mlp-ewc': { stock: [], wasm: [], native: [], pytorch: [] },
    cnn: { stock: [], wasm: [], native: [], pytorch: [] },
  };
  const baselineSteps = (model: ModelName) => Math.max(3, Math.round(options.steps / (model === 'cnn' ? 50 : 10)));
  if (options.coreRewrites) {
    unload();
    // Stock wasm, before Engram's rewrites exist (they cannot be removed again).
    for (const model of models) series[model].stock.push(samplesPerSecond(model, baselineSteps(model)));
    const core = (await import(pathToFileURL(resolve(options.coreRewrites)).href)) as { registerWasmGradients(): void };
    core.registerWasmGradients();
    if (loaded.loaded) load();
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const model of models) {
      const steps = model === 'cnn' ? Math.max(5, Math.round(options.steps / 5)) : options.steps;
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
  const ewcOnOverOff = Number((median(series['mlp-ewc'].native) / median(series.mlp.native)).toFixed(2));
  const result = {
    backend,
    ...Object.fromEntries(models.map((m) => [m, summarise(series[m])])),
    ...(Number.isFinite(ewcOnOverOff) ? { ewcOnOverOff } : {}),
  };
  if (options.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`backend: ${backend}; batch 128, Adam; samples/s, median of ${options.rounds} interleaved rounds`);
  for (const m of models) {
    const x = summarise(series[m]);
    const stock = options.coreRewrites ? `stock wasm ${x.stockWasm ?? 'fails'} | wasm+rewrites ` : 'wasm ';
    console.log(
      `${m.toUpperCase()}: ${stock}${x.wasm ?? 'fails'} | wasm+native ${x.native} (best ${x.nativeBest}) | ` +
        `native/wasm ${x.nativeOverWasm ?? 'n/a'}` +
        (x.pytorch !== null ? ` | PyTorch ${x.pytorch} | native/PyTorch ${x.nativeVsPytorch}` : ''),
    );
  }
  if ('ewcOnOverOff' in result) console.log(`EWC on / off (wasm+native MLP): ${result.ewcOnOverOff}`);
}

await main();
