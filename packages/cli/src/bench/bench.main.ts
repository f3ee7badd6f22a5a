import { selectBackend } from '@engram/core';
import { bareLoopSamplesPerSecond } from './bare-loop.bench.js';
import { checkpointBench } from './checkpoint.bench.js';
import { engineSamplesPerSecond } from './engine-run.bench.js';
import { pytorchSamplesPerSecond } from './pytorch.bench.js';

/**
 * `npm run bench [-- --pytorch SCRIPT] [--cnn] [--ewc] [--repeats N] [--json]`: training samples/s of
 * the benchmark models through the engine and through a bare tfjs loop on the same backend (and
 * PyTorch's reference script when given, which implies `--cnn --ewc`), interleaved in one run (the
 * order reverses every round), with ratios. Reports medians of samples/s, and each ratio as the
 * median of its per-round ratios.
 */
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const repeats = Number(value('--repeats') ?? 3);
const pytorch = value('--pytorch');
const batch = 128;
// Against PyTorch the full comparison runs: both models, EWC on and off. Alone, `--cnn` and `--ewc` add them.
const full = pytorch !== undefined;
const models: Array<'mlp' | 'cnn'> = flag('--cnn') || full ? ['mlp', 'cnn'] : ['mlp'];
const ewc = flag('--ewc') || full;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const backend = await selectBackend('auto');
const rows: Array<{ name: string; value: number }> = [];
const json: Record<string, number | string> = { backend: backend.description, batch, repeats };
for (const model of models) {
  const samples = model === 'mlp' ? 128 * 300 : 128 * 30;
  const steps = samples / batch;
  const bare: number[] = [];
  const engine: number[] = [];
  const engineEwc: number[] = [];
  const torch: number[] = [];
  const torchEwc: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const runs: Array<() => Promise<void>> = [
      async () => void bare.push(await bareLoopSamplesPerSecond(model, batch, steps)),
      async () => void engine.push((await engineSamplesPerSecond(model, batch, samples, false)).samplesPerSecond),
    ];
    if (ewc) runs.push(async () => void engineEwc.push((await engineSamplesPerSecond(model, batch, samples, true)).samplesPerSecond));
    if (pytorch) {
      runs.push(async () => {
        const t = pytorchSamplesPerSecond(pytorch, model, batch, false);
        if (typeof t !== 'number' && r === 0) process.stderr.write(`pytorch: ${t.error}\n`);
        torch.push(typeof t === 'number' ? t : NaN);
      });
      if (ewc) {
        runs.push(async () => {
          const t = pytorchSamplesPerSecond(pytorch, model, batch, true);
          torchEwc.push(typeof t === 'number' ? t : NaN);
        });
      }
    }
    // Reverse the order every other round, so that no measurement always runs first or last.
    for (const run of r % 2 === 0 ? runs : runs.reverse()) await run();
  }
  const put = (name: string, key: string, xs: number[]): void => {
    if (xs.length === 0 || xs.every(Number.isNaN)) return;
    rows.push({ name: `${model} ${name}`, value: median(xs) });
    json[key] = median(xs);
  };
  // A ratio is the median of the per-round ratios: both sides of a pair ran back to back.
  const ratio = (key: string, a: number[], b: number[]): void => {
    const pairs = a.map((x, i) => x / (b[i] ?? NaN)).filter((x) => !Number.isNaN(x));
    if (pairs.length > 0) json[key] = median(pairs);
  };
  put('bare tfjs loop', `${model}Bare`, bare);
  put('engram run', `${model}Engine`, engine);
  ratio(`${model}EngineOverBare`, engine, bare);
  put('engram run + ewc', `${model}EngineEwc`, engineEwc);
  ratio(model === 'mlp' ? 'ewcOnOverOff' : `${model}EwcOnOverOff`, engineEwc, engine);
  put('pytorch', `${model}Pytorch`, torch);
  ratio(`${model}VsPytorch`, engine, torch);
  put('pytorch + ewc', `${model}PytorchEwc`, torchEwc);
  ratio(`${model}PytorchEwcOnOverOff`, torchEwc, torch);
}
const ckpt = await checkpointBench();
json['checkpointParameters'] = ckpt.parameters;
json['checkpointBytes'] = ckpt.bytes;
json['checkpointWriteSeconds'] = ckpt.writeSeconds;
json['checkpointReadSeconds'] = ckpt.readSeconds;
if (flag('--json')) {
  process.stdout.write(`${JSON.stringify(json)}\n`);
} else {
  process.stdout.write(`backend: ${backend.description}, batch ${batch}, Adam, median of ${repeats} interleaved repeats\n`);
  for (const r of rows) process.stdout.write(`  ${r.name.padEnd(26)} ${r.value.toFixed(0).padStart(8)} samples/s\n`);
  for (const [k, v] of Object.entries(json)) if (/Over|Vs/.test(k) && typeof v === 'number') process.stdout.write(`  ${k.padEnd(26)} ${v.toFixed(3)}\n`);
  process.stdout.write(
    `checkpoint of ${ckpt.parameters.toLocaleString('en')} parameters + Adam state + 1,000-sample replay buffer: ` +
      `${(ckpt.bytes / 1e6).toFixed(1)} MB, write ${ckpt.writeSeconds.toFixed(3)} s, verified read ${ckpt.readSeconds.toFixed(3)} s\n`,
  );
}
