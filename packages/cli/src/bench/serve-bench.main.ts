import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, type BenchArgs } from './bench-args.js';
import { median } from './bench-stats.js';
import { loadPredict, type LoadResult } from './serve-load.js';

/**
 * `npm run bench:serve [-- --smoke] [--seconds S] [--warmup W] [--epochs E] [--pipeline FILE]`:
 * `/predict` latency (p50/p99) and requests/s for one instance, idle (the lingering server after
 * training) and while training, each measured for `S` seconds after `W` seconds of the same load
 * (default 2, discarded: the run's start-up); and training samples/s without and with 200 predictions/s,
 * medians over `R` rounds (default 3) of one run each way. Default pipeline: the
 * quickstart MLP (784-400-400-10) trained for `E` epochs (default 20: about ten seconds of training,
 * so the `S`-second windows, default 5, fall inside training, not in start-up or the report at the
 * end; `--epochs` applies to the quickstart, `--pipeline` runs as written); `--smoke` uses a tiny synthetic one and
 * 1-second phases (checks the bench works, gives no
 * meaningful figures). Loopback only; every phase is bounded in time.
 */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
const USAGE =
  'usage: npm run bench:serve -- [--smoke] [--rounds R] [--seconds S] [--warmup W] [--epochs E] [--pipeline FILE]\n';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
let args: BenchArgs;
let seconds: number;
let epochs: number;
let warmup: number;
let rounds: number;
try {
  args = parseBenchArgs(argv, {
    flags: ['--smoke'],
    valued: ['--seconds', '--epochs', '--warmup', '--rounds', '--pipeline'],
  });
  seconds = args.positiveNumber('--seconds', args.flags.has('--smoke') ? 1 : 5);
  epochs = args.positiveInt('--epochs', 20);
  warmup = args.positiveNumber('--warmup', args.flags.has('--smoke') ? 0.5 : 2);
  rounds = args.positiveInt('--rounds', args.flags.has('--smoke') ? 1 : 3);
} catch (e) {
  process.stderr.write(`error: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const smoke = args.flags.has('--smoke');
const flag = (name: string): string | undefined => args.value(name);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface Served {
  readonly child: ChildProcess;
  readonly base: string;
  readonly exited: Promise<number | null>;
}

function serveRun(file: string, out: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    [MAIN, 'run', file, '--out', out, '--overwrite', '--quiet', '--serve', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  let err = '';
  return new Promise((res, rej) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/[^\s/]+)\//.exec(err);
      if (m?.[1]) res({ child, base: m[1], exited });
    });
    void exited.then((c) => rej(new Error(`engram run exited (${c}): ${err}`)));
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readyBody(base: string): Promise<string> {
  let shape: number[] = [];
  await until(async () => {
    const r = (await (await fetch(`${base}/readyz`)).json()) as { ready: boolean; inputShape?: number[] };
    shape = r.inputShape ?? [];
    return r.ready;
  }, 120_000);
  const len = shape.reduce((a, b) => a * b, 1);
  return JSON.stringify({ instances: [Array.from({ length: len }, (_, i) => (i % 7) / 7)] });
}

const trainingSpeed = (out: string): number =>
  (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { samplesPerSecond?: number; throughput?: number })
    .samplesPerSecond ?? Number.NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-serve-'));
  let file = flag('--pipeline') ?? join(root, 'examples', 'quickstart.pipeline.json');
  const shown = flag('--pipeline') !== undefined ? file : `the quickstart pipeline, ${epochs} epochs`;
  if (!smoke && flag('--pipeline') === undefined) {
    // The quickstart (plugins resolve from the CLI; the document has no relative paths) trained for `epochs`.
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { $schema?: string; training?: Record<string, unknown> };
    delete doc.$schema;
    if (doc.training?.['iterations'] === undefined) doc.training = { ...doc.training, epochs };
    file = join(dir, 'bench.pipeline.json');
    writeFileSync(file, JSON.stringify(doc));
  }
  if (smoke) {
    file = join(dir, 'smoke.pipeline.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'serve-smoke',
        seed: 1,
        backend: 'cpu',
        plugins: ['@engram/datasets', '@engram/strategies'],
        data: { kind: 'synthetic', numClasses: 3, features: 8, samplesPerClass: 2000 },
        model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }] },
        strategy: { kind: 'naive' },
        training: { epochs: 3, batchSize: 32 },
        serve: { linger: true },
      }),
    );
  }
  const results = new Map<string, LoadResult[]>();
  const record = (name: string, r: LoadResult): void => void results.set(name, [...(results.get(name) ?? []), r]);
  const speeds: Record<'quiet' | 'rate', number[]> = { quiet: [], rate: [] };
  const finished = (out: string) => async (): Promise<boolean> => {
    try {
      readFileSync(join(out, 'summary.json'));
      return true;
    } catch {
      return false;
    }
  };
  // Rounds of one run without and one with 200 req/s (their order alternates, so drift of the machine
  // falls on both), then one closed-loop run; training samples/s vary by ±15 % from run to run on their own.
  const phases: Array<'quiet' | 'rate' | 'closed'> = [];
  for (let r = 0; r < rounds; r++)
    phases.push(...(r % 2 === 0 ? (['quiet', 'rate'] as const) : (['rate', 'quiet'] as const)));
  phases.push('closed');
  try {
    for (const [i, phase] of phases.entries()) {
      const out = join(dir, `run-${i}-${phase}`);
      const s = await serveRun(file, out);
      const body = await readyBody(s.base);
      const done = finished(out);
      if (phase === 'rate') {
        // 200 predictions/s for the whole training; after a warm-up (the run's start: data loading, the
        // first versions, JIT), the next period's latencies are reported.
        await loadPredict({ base: s.base, body, seconds: warmup, rate: 200 });
        record('while training (200 req/s)', await loadPredict({ base: s.base, body, seconds, rate: 200 }));
        while (!(await done())) await loadPredict({ base: s.base, body, seconds: 1, rate: 200 });
      }
      if (phase === 'closed') {
        await loadPredict({ base: s.base, body, seconds: warmup, concurrency: 4 });
        record(
          'while training (closed loop, 4 clients)',
          await loadPredict({ base: s.base, body, seconds, concurrency: 4 }),
        );
      }
      await until(done, 3_600_000);
      if (phase !== 'closed') speeds[phase].push(trainingSpeed(out));
      if (phase === 'quiet')
        record('idle (after training, 4 clients)', await loadPredict({ base: s.base, body, seconds, concurrency: 4 }));
      s.child.kill('SIGTERM');
      await s.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `/predict, one instance, ${smoke ? 'SMOKE (figures meaningless)' : shown}; medians of ${rounds} round(s) (closed loop: one run)\n`,
  );
  process.stdout.write(
    'phase                                     req/s     p50 ms   p99 ms  errors   p99 of each round\n',
  );
  for (const name of [
    'idle (after training, 4 clients)',
    'while training (200 req/s)',
    'while training (closed loop, 4 clients)',
  ]) {
    const rs = results.get(name) ?? [];
    const cell = (f: (r: LoadResult) => number, digits: number, width: number): string =>
      median(rs.map(f)).toFixed(digits).padStart(width);
    process.stdout.write(
      `${name.padEnd(40)} ${cell((r) => r.perSecond, 0, 7)} ${cell((r) => r.p50Ms, 2, 9)} ` +
        `${cell((r) => r.p99Ms, 2, 8)} ${String(rs.reduce((n, r) => n + r.errors, 0)).padStart(7)}   ` +
        `${rs.map((r) => r.p99Ms.toFixed(1)).join(' · ')}\n`,
    );
  }
  const quiet = median(speeds.quiet);
  const loaded = median(speeds.rate);
  const each = speeds.quiet
    .map((q, i) => `${(((q - (speeds.rate[i] ?? Number.NaN)) / q) * 100).toFixed(1)} %`)
    .join(' · ');
  process.stdout.write(
    `training samples/s: ${quiet.toFixed(0)} without predictions, ${loaded.toFixed(0)} with 200 req/s ` +
      `(${(((quiet - loaded) / quiet) * 100).toFixed(1)} % slower; by round ${each})\n`,
  );
  process.stdout.write(
    `  without: ${speeds.quiet.map((v) => v.toFixed(0)).join(' · ')}; with: ${speeds.rate.map((v) => v.toFixed(0)).join(' · ')}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:serve failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
