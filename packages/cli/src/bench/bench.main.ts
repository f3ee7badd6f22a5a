import { selectBackend } from '@engram/core';
import { bareLoopSamplesPerSecond } from './bare-loop.bench.js';
import { checkpointBench } from './checkpoint.bench.js';
import { engineSamplesPerSecond } from './engine-run.bench.js';
import { pytorchSamplesPerSecond } from './pytorch.bench.js';

/**
 * `npm run bench [-- --pytorch SCRIPT] [--cnn] [--ewc] [--repeats N] [--json]`: training samples/s of
 * the benchmark models through the engine and through a bare tfjs loop on the same backend (and
 * PyTorch's reference script when given), interleaved in one run, with ratios. Reports medians.
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
const models: Array<'mlp' | 'cnn'> = flag('--cnn') ? ['mlp', 'cnn'] : ['mlp'];

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
    // Alternate the order so that neither side always runs first (warm caches, clock boost).
    if (r % 2 === 0) bare.push(await bareLoopSamplesPerSecond(model, batch, steps));
    engine.push((await engineSamplesPerSecond(model, batch, samples, false)).samplesPerSecond);
    if (r % 2 === 1) bare.push(await bareLoopSamplesPerSecond(model, batch, steps));
    if (flag('--ewc')) engineEwc.push((await engineSamplesPerSecond(model, batch, samples, true)).samplesPerSecond);
    if (pytorch) {
      const t = pytorchSamplesPerSecond(pytorch, model, batch, false);
      if (typeof t === 'number') torch.push(t);
      else if (r === 0) process.stderr.write(`pytorch: ${t.error}\n`);
      if (flag('--ewc')) {
        const te = pytorchSamplesPerSecond(pytorch, model, batch, true);
        if (typeof te === 'number') torchEwc.push(te);
      }
    }
  }
  const m = { bare: median(bare), engine: median(engine) };
  rows.push({ name: `${model} bare tfjs loop`, value: m.bare }, { name: `${model} engram run`, value: m.engine });
  json[`${model}Bare`] = m.bare;
  json[`${model}Engine`] = m.engine;
  json[`${model}EngineOverBare`] = m.engine / m.bare;
  if (engineEwc.length > 0) {
    rows.push({ name: `${model} engram run + ewc`, value: median(engineEwc) });
    json[`${model}EngineEwc`] = median(engineEwc);
    json[model === 'mlp' ? 'ewcOnOverOff' : `${model}EwcOnOverOff`] = median(engineEwc) / m.engine;
  }
  if (torch.length > 0) {
    rows.push({ name: `${model} pytorch`, value: median(torch) });
    json[`${model}Pytorch`] = median(torch);
    json[`${model}VsPytorch`] = m.engine / median(torch);
  }
  if (torchEwc.length > 0 && torch.length > 0) {
    rows.push({ name: `${model} pytorch + ewc`, value: median(torchEwc) });
    json[`${model}PytorchEwcOnOverOff`] = median(torchEwc) / median(torch);
  }
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
