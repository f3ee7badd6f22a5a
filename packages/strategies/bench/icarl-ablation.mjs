// icarl-ablation — the measurements behind docs/results.md "iCaRL vs replay": iCaRL with each of its
// parts switched (exemplar selection, feature normalisation, classifier, classification loss,
// distillation), step budgets and batch sizes, beside replay, on split-MNIST class-IL (the quality
// bench's protocol: examples/split-mnist/class-il-*.pipeline.json) and split Fashion-MNIST class-IL
// (examples/fashion-mnist-split.pipeline.json, 20,000 training images, 300 steps per experience).
//
// Usage (from the repository root, after a build):
//   node packages/strategies/bench/icarl-ablation.mjs [variant,variant…] [--seeds 1,2,3] [--jobs 2]
// Without a list every variant runs; with one, in the list's order. Results are merged into runs/icarl-ablation/results.json (one entry
// per variant and seed, so a rerun of a few variants keeps the others) and the whole table is printed
// as markdown: variant, options, budget, seeds, ACC mean ± sd, BWT mean ± sd. Each run gets 1 OpenBLAS
// thread and runs under `nice -n 10`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const seeds = String(flag('--seeds', '1,2,3')).split(',').map(Number);
const jobs = Math.max(1, Number(flag('--jobs', '2')));
const only = (args.find((a) => !a.startsWith('--')) ?? '').split(',').filter(Boolean);

const mnist = 'examples/split-mnist/class-il-icarl.pipeline.json';
const fashion = 'examples/fashion-mnist-split.pipeline.json';
const icarl = (o = {}) => ({ kind: 'icarl', bufferSize: 1000, ...o });
const replay = { kind: 'replay', bufferSize: 1000 };
/** name → the pipeline it starts from, the strategy and the training budget. */
const variants = {
  'mnist/replay': { base: mnist, strategy: replay, iterations: 100 },
  'mnist/icarl': { base: mnist, strategy: icarl(), iterations: 100 },
  'mnist/icarl-random': { base: mnist, strategy: icarl({ selection: 'random' }), iterations: 100 },
  'mnist/icarl-unnormalised': { base: mnist, strategy: icarl({ normalize: false }), iterations: 100 },
  'mnist/icarl-output': { base: mnist, strategy: icarl({ classifier: 'output' }), iterations: 100 },
  'mnist/icarl-no-distill': { base: mnist, strategy: icarl({ distillation: 'none' }), iterations: 100 },
  'mnist/icarl-bce-kd': { base: mnist, strategy: icarl({ distillation: 'softmax' }), iterations: 100 },
  'mnist/icarl-ce': {
    base: mnist,
    strategy: icarl({ classification: 'cross-entropy', distillation: 'none' }),
    iterations: 100,
  },
  'mnist/icarl-ce-kd': {
    base: mnist,
    strategy: icarl({ classification: 'cross-entropy', distillation: 'softmax' }),
    iterations: 100,
  },
  'mnist/icarl-ce-sigmoid': { base: mnist, strategy: icarl({ classification: 'cross-entropy' }), iterations: 100 },
  'mnist/icarl-b256': { base: mnist, strategy: icarl(), iterations: 100, batchSize: 256 },
  'mnist/replay-300': { base: mnist, strategy: replay, iterations: 300 },
  'mnist/icarl-300': { base: mnist, strategy: icarl(), iterations: 300 },
  'mnist/replay-1000': { base: mnist, strategy: replay, iterations: 1000 },
  'mnist/icarl-1000': { base: mnist, strategy: icarl(), iterations: 1000 },
  'fashion/replay-300': { base: fashion, strategy: replay, iterations: 300 },
  'fashion/icarl-300': { base: fashion, strategy: icarl(), iterations: 300 },
  'fashion/icarl-ce-300': {
    base: fashion,
    strategy: icarl({ classification: 'cross-entropy', distillation: 'none' }),
    iterations: 300,
  },
};
const extra = flag('--variant', undefined);
if (extra) {
  // --variant 'name={"base":"mnist","strategy":{…},"iterations":300}' adds an ad-hoc variant.
  const at = extra.indexOf('=');
  const v = JSON.parse(extra.slice(at + 1));
  variants[extra.slice(0, at)] = { ...v, base: v.base === 'fashion' ? fashion : mnist };
  only.push(extra.slice(0, at));
}
const chosen = only.length === 0 ? Object.keys(variants) : only.filter((n) => n in variants);
if (chosen.length === 0) {
  console.error(`no such variant; known: ${Object.keys(variants).join(', ')}`);
  process.exit(2);
}

const dir = join(root, 'runs', 'icarl-ablation');
mkdirSync(dir, { recursive: true });
const store = join(dir, 'results.json');
const results = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : {};
const save = () => {
  writeFileSync(`${store}.tmp`, JSON.stringify(results, null, 1));
  renameSync(`${store}.tmp`, store);
};

function runOne(name, seed) {
  const v = variants[name];
  const p = JSON.parse(readFileSync(join(root, v.base), 'utf8'));
  const training = { ...p.training, iterations: v.iterations, batchSize: v.batchSize ?? p.training.batchSize ?? 128 };
  delete training.epochs;
  const doc = { ...p, seed, strategy: v.strategy, training, checkpoint: { enabled: false } };
  const slug = `${name.replace('/', '-')}-seed${seed}`;
  const file = join(dir, `${slug}.pipeline.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const out = join(dir, slug);
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(
      'nice',
      ['-n', '10', process.execPath, join(root, 'packages/cli/dist/main.js'), 'run', file, '--out', out, '--quiet'],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const summary = join(out, 'summary.json');
      if (code !== 0 || !existsSync(summary)) {
        console.log(`${name} seed ${seed}: failed (${code}) ${err.trim().split('\n').pop() ?? ''}`);
        return done();
      }
      const s = JSON.parse(readFileSync(summary, 'utf8'));
      results[`${name}|${seed}`] = {
        name,
        seed,
        options: v.strategy,
        iterations: v.iterations,
        batchSize: training.batchSize,
        acc: s.averageAccuracy,
        bwt: s.bwt,
        la: s.learningAccuracy,
        seconds: (performance.now() - started) / 1000,
      };
      save();
      console.log(`${name} seed ${seed}: ACC ${(100 * s.averageAccuracy).toFixed(1)} BWT ${(100 * s.bwt).toFixed(1)}`);
      done();
    });
  });
}

// Runs already in results.json are skipped unless --force is given.
const force = args.includes('--force');
const work = chosen.flatMap((n) => seeds.map((s) => [n, s])).filter(([n, s]) => force || !results[`${n}|${s}`]);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, work.length) }, async () => {
    while (next < work.length) await runOne(...work[next++]);
  }),
);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const fmt = (xs) => `${(100 * mean(xs)).toFixed(1)} ± ${(100 * sd(xs)).toFixed(1)}`;
const byName = new Map();
for (const r of Object.values(results)) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
// LA: learning accuracy, the mean accuracy on each experience right after training on it.
console.log(
  '\n| variant | options | budget | seeds | ACC % | BWT % | LA % | s/run |\n|---|---|---|---|---|---|---|---|',
);
for (const [name, rs] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
  const { kind: _k, bufferSize: _b, ...o } = rs[0].options;
  console.log(
    `| ${name} | ${JSON.stringify(o).replace(/"/g, '')} | ${rs[0].iterations} it × ${rs[0].batchSize} | ${rs
      .map((r) => r.seed)
      .sort()
      .join(
        ',',
      )} | ${fmt(rs.map((r) => r.acc))} | ${fmt(rs.map((r) => r.bwt))} | ${fmt(rs.map((r) => r.la))} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} |`,
  );
}
