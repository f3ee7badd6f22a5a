/**
 * Training-speed benchmark of the native kernels: samples/s of the MLP 784-400-400-10 (batch 128,
 * Adam 1e-3, softmax cross-entropy) on plain wasm vs wasm + native, interleaved in one process,
 * optionally beside PyTorch (`--pytorch <path to torch_speed.py>`, run with /usr/bin/python3).
 *
 * Usage: node dist/bench/native.bench.js [--steps 100] [--rounds 3] [--pytorch path] [--json]
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { load, unload } from '../index.js';
import { useWasmNative } from '../testing/backend-harness.js';
import { createMlp, syntheticBatch, trainStep } from '../testing/mlp-model.js';

interface Options {
  readonly steps: number;
  readonly rounds: number;
  readonly pytorch: string | undefined;
  readonly json: boolean;
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
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** samples/s of `steps` MLP training steps after a short warm-up. */
function mlpSamplesPerSecond(steps: number): number {
  const model = createMlp([784, 400, 400, 10], 1);
  const opt = tf.train.adam(1e-3);
  const { x, y } = syntheticBatch(128, 784, 10, 2);
  for (let i = 0; i < 5; i++) trainStep(model, opt, x, y);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) trainStep(model, opt, x, y);
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return (steps * 128) / seconds;
}

function pytorchSamplesPerSecond(script: string): number | undefined {
  const run = spawnSync('/usr/bin/python3', [script, '--model', 'mlp', '--threads', '2'], { encoding: 'utf8' });
  if (run.status !== 0) {
    console.error(`pytorch reference failed: ${(run.stderr || run.error?.message || '').split('\n').slice(-2).join(' ')}`);
    return undefined;
  }
  const line = run.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as { samples_per_s?: number };
  return parsed.samples_per_s;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const loaded = await useWasmNative();
  const wasm: number[] = [];
  const native: number[] = [];
  const torch: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    unload();
    // Plain wasm gets fewer steps: it is ~20x slower.
    wasm.push(mlpSamplesPerSecond(Math.max(5, Math.round(options.steps / 10))));
    if (loaded.loaded) load();
    native.push(mlpSamplesPerSecond(options.steps));
    if (options.pytorch) {
      const t = pytorchSamplesPerSecond(options.pytorch);
      if (t !== undefined) torch.push(t);
    }
  }
  const result = {
    backend: loaded.loaded ? `wasm+${loaded.description}` : `wasm (${loaded.description})`,
    mlpWasm: Math.round(median(wasm)),
    mlpNative: Math.round(median(native)),
    nativeOverWasm: Number((median(native) / median(wasm)).toFixed(2)),
    ...(torch.length > 0
      ? { mlpPytorch: Math.round(median(torch)), mlpVsPytorch: Number((median(native) / median(torch)).toFixed(2)) }
      : {}),
    mlpNativeBest: Math.round(Math.max(...native)),
    ...(torch.length > 0 ? { mlpPytorchBest: Math.round(Math.max(...torch)) } : {}),
    rounds: { wasm: wasm.map(Math.round), native: native.map(Math.round), pytorch: torch.map(Math.round) },
  };
  if (options.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`backend: ${result.backend}`);
  console.log(`MLP 784-400-400-10, batch 128, Adam — samples/s (median of ${options.rounds} interleaved rounds)`);
  console.log(`  wasm (stock kernels)  ${result.mlpWasm}`);
  console.log(`  wasm + native         ${result.mlpNative}   (${result.nativeOverWasm}× wasm; best round ${result.mlpNativeBest})`);
  if ('mlpPytorch' in result) console.log(`  PyTorch               ${result.mlpPytorch}   (native ${result.mlpVsPytorch}× PyTorch)`);
}

await main();
