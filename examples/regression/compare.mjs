// Naive vs EWC vs replay on the drifting regression stream, over seeds: the old regimes' MAE after the
// last regime (the table in docs/results.md). Usage (after `npm ci && npm run build`):
//   node examples/regression/compare.mjs [outDir] [seeds=1,2,3]
// Prints one JSON line per run, then a Markdown table of means.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, 'drifting-regression.pipeline.json');
const outRoot = process.argv[2] ?? 'runs/regression-compare';
const seeds = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const strategies = {
  naive: { kind: 'naive' },
  ewc: JSON.parse(readFileSync(file, 'utf8')).strategy,
  replay: { kind: 'replay', bufferSize: 200 },
};

const rows = [];
for (const [name, strategy] of Object.entries(strategies)) {
  for (const seed of seeds) {
    const doc = { ...JSON.parse(readFileSync(file, 'utf8')), seed, strategy, checkpoint: { enabled: false } };
    const loaded = await preparePipeline(doc, file, { builtins: [corePlugin] });
    const { summary } = await runPipeline(loaded, { outDir: join(outRoot, `${name}-${seed}`) });
    const e = summary.errors;
    const last = e.maeMatrix[e.maeMatrix.length - 1];
    // the old regimes: every experience but the last, measured after the last one
    const old = last.slice(0, -1).reduce((s, v) => s + v, 0) / (last.length - 1);
    const row = {
      strategy: name,
      seed,
      oldMae: old,
      averageMae: e.averageMae,
      forgetting: e.forgetting,
      seconds: summary.wallSeconds,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
const mean = (xs) => xs.reduce((s, v) => s + v, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((v) => (v - mean(xs)) ** 2)));
process.stdout.write(
  '\n| strategy | old regimes MAE | all regimes MAE | forgetting (MAE increase) |\n|---|---|---|---|\n',
);
for (const name of Object.keys(strategies)) {
  const r = rows.filter((x) => x.strategy === name);
  const cell = (k) => `${mean(r.map((x) => x[k])).toFixed(3)} ± ${sd(r.map((x) => x[k])).toFixed(3)}`;
  process.stdout.write(`| ${name} | ${cell('oldMae')} | ${cell('averageMae')} | ${cell('forgetting')} |\n`);
}
