import { BENCH_MODELS, type StackBenchModel } from './bench-models.js';
import { checkpointBench } from './checkpoint.bench.js';
import { engineSamplesPerSecond } from './engine-run.bench.js';
import { fisherBench } from './fisher.bench.js';

/**
 * Child process of `npm run bench -- --big` (one per model and round, so that its peak RSS is the
 * model's alone): `node big-model.main.js <mlp-big|cnn-big> <samples> [--checkpoint] [--fisher N]`.
 * Trains through the engine and prints one JSON line: samples/s, peak RSS after training
 * (`process.resourceUsage().maxRSS`), and optionally the checkpoint (10M parameters + Adam state:
 * write, verified read) and the EWC Fisher on N samples.
 */
const [model, samplesArg, ...flags] = process.argv.slice(2);
if (model !== 'mlp-big' && model !== 'cnn-big') throw new Error(`model must be mlp-big or cnn-big, got ${model}`);
const samples = Number(samplesArg);
const name = model as StackBenchModel;
const engine = await engineSamplesPerSecond(name, 128, samples, false);
const out: Record<string, unknown> = {
  model,
  samplesPerSecond: engine.samplesPerSecond,
  backend: engine.backend,
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
};
if (flags.includes('--checkpoint')) {
  const c = await checkpointBench({ layers: BENCH_MODELS[name], replay: false, samples: 256 });
  out['checkpoint'] = {
    parameters: c.parameters,
    bytes: c.bytes,
    writeSeconds: c.writeSeconds,
    readSeconds: c.readSeconds,
  };
}
const fisherAt = flags.indexOf('--fisher');
if (fisherAt >= 0) out['fisher'] = await fisherBench(name, Number(flags[fisherAt + 1] ?? 1000));
process.stdout.write(`${JSON.stringify(out)}\n`);
