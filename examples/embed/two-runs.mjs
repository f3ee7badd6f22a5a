// Two Engram runs trained concurrently in one Node process through the public embedding API.
// Each prints one JSON line { name, accuracyMatrix } — the same matrix `engram run` gives for that
// pipeline alone. Usage (after `npm ci && npm run build`):
//   node examples/embed/two-runs.mjs [outDir] [pipeline.json pipeline.json]   (default: quickstart + split-MNIST EWC)
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startRunFromFile } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = process.argv[2] ?? 'runs/embed';
const given = process.argv.slice(3);
const pipelines = given.length > 0 ? given : [join(here, '..', 'quickstart.pipeline.json'), join(here, '..', 'split-mnist', 'class-il-ewc.pipeline.json')];

const runs = pipelines.map((file, i) => {
  const run = startRunFromFile(file, { outDir: join(outRoot, String(i)) });
  run.events$.subscribe((e) => {
    if (e.type === 'warning') process.stderr.write(`${file}: warning: ${e.message}\n`);
  });
  return run;
});
process.once('SIGINT', () => runs.forEach((r) => r.stop('SIGINT')));

const outcomes = await Promise.all(runs.map((r) => r.outcome));
for (const { summary } of outcomes) {
  process.stdout.write(`${JSON.stringify({ name: summary.name, accuracyMatrix: summary.accuracyMatrix })}\n`);
}
