import { availableParallelism } from 'node:os';
import { parseBenchArgs } from './bench-args.js';
import { PROJECT_TORCH_SCRIPT } from './pytorch.bench.js';

/** What `npm run bench -- …` asked for. */
export interface BenchOptions {
  readonly json: boolean;
  readonly repeats: number;
  /** Reference script for the MLP/CNN throughput (torch_speed.py's command line); set when PyTorch runs. */
  readonly pytorch: string | undefined;
  /** Python interpreters with torch, one anchor each (empty: no PyTorch). */
  readonly pythons: readonly string[];
  readonly models: ReadonlyArray<'mlp' | 'cnn'>;
  readonly ewc: boolean;
  readonly online: boolean;
  readonly big: boolean;
  /** The reduced ResNet-18 and the GRU against PyTorch (issue #32). */
  readonly backbone: boolean;
  /** Model I/O (issue #32): ONNX export/import of an 11M-parameter ResNet, checkpoint of the bench ResNet. */
  readonly io: boolean;
  /** Threads PyTorch may use (default: the CPUs Node sees). */
  readonly threads: number;
  /** Smoke run: tiny sizes, so the figures mean nothing; proves every path works. */
  readonly quick: boolean;
}

/** Usage text for `--help` and argument errors. */
export const BENCH_USAGE = `usage: npm run bench -- [--json] [--repeats N] [--pytorch SCRIPT] [--python PATH]... [--cnn] [--ewc] [--online] [--big] [--backbone] [--threads N] [--quick]
  --pytorch SCRIPT  PyTorch throughput script (torch_speed.py's command line); implies --cnn --ewc --online
  --python PATH     a Python with torch; repeat it to measure several anchors in one run (default /usr/bin/python3).
                    Alone, it uses the project's script ${PROJECT_TORCH_SCRIPT}
  --online          p50/p99 of one prequential step at batch 1, 8, 32 (engine, bare tfjs, PyTorch)
  --big             MLP 784-2048x3-10 (10M parameters) and CNN 64/128/256: samples/s, peak RSS, checkpoint, Fisher
  --backbone        reduced ResNet-18 (32x32x3, batch 128 and 32; EWC on/off with --ewc) and a token GRU vs PyTorch
  --io              ONNX export and import of the reduced ResNet-18 with nf 64 (11.2M parameters), checkpoint
                    write/read of the bench ResNet (nf 20) with Adam state and replay; fastest of 3
  --quick           tiny sizes (a smoke run; its figures mean nothing)`;

/** Parses the bench's arguments; throws a one-line error for a bad one. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const args = parseBenchArgs(argv, {
    flags: ['--json', '--cnn', '--ewc', '--online', '--big', '--backbone', '--io', '--quick'],
    valued: ['--repeats', '--pytorch', '--python', '--threads'],
  });
  const flags = args.flags;
  const pythons = [...(args.values.get('--python') ?? [])];
  let pytorch = args.value('--pytorch');
  if (pytorch === undefined && pythons.length > 0) pytorch = PROJECT_TORCH_SCRIPT;
  if (pytorch !== undefined && pythons.length === 0) pythons.push('/usr/bin/python3');
  // Against PyTorch the full comparison runs: both models, EWC on and off, online latency.
  const full = pytorch !== undefined;
  return {
    json: flags.has('--json'),
    repeats: args.positiveInt('--repeats', 3),
    pytorch,
    pythons,
    models: flags.has('--cnn') || full ? ['mlp', 'cnn'] : ['mlp'],
    ewc: flags.has('--ewc') || full,
    online: flags.has('--online') || full,
    big: flags.has('--big'),
    backbone: flags.has('--backbone'),
    io: flags.has('--io'),
    threads: args.positiveInt('--threads', availableParallelism()),
    quick: flags.has('--quick'),
  };
}
