import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The PyTorch side of the bench. An *anchor* is one Python interpreter with torch (Debian's
 * `/usr/bin/python3` with PyTorch 1.13, a venv with PyPI's 2.x, …), given by `--python PATH`; every
 * anchor runs the same reference script and is labelled with the torch version it reports. The script
 * path comes from the command line (`--pytorch`); the online and big-model measurements always use the
 * project's own `bench/torch_bench.py`, which accepts the same command line as
 * `../shared/bench/torch_speed.py`. Engram itself never depends on Python.
 */

/** The project's reference script (packages/cli/bench/torch_bench.py), located from this file. */
export const PROJECT_TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_bench.py', import.meta.url));

/** One Python interpreter with torch. */
export interface PytorchAnchor {
  readonly python: string;
  /** torch.__version__, e.g. `1.13.0a0+git…` or `2.13.0+cpu`. */
  readonly torch: string;
  /** A short, unique JSON key for it: `torch1_13_0`, `torch2_13_0`, or with `_2` appended on a clash. */
  readonly key: string;
}

/** A failed run: the last line of its error output. */
export interface PytorchError {
  readonly error: string;
}

/** Runs `python script args…` and parses the last line of its output as JSON. */
export function runPythonJson(
  python: string,
  script: string,
  args: readonly string[],
  timeoutMs = 900_000,
): Record<string, unknown> | PytorchError {
  const r = spawnSync(python, [script, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-1)[0] ?? 'failed' };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { error: `unexpected output: ${line.slice(0, 200)}` };
  }
}

/** True when a run failed. */
export function isPytorchError(x: unknown): x is PytorchError {
  return typeof x === 'object' && x !== null && 'error' in x;
}

/** Asks each interpreter for its torch version; refuses one without torch with a one-line reason. */
export function probeAnchors(pythons: readonly string[]): PytorchAnchor[] {
  const anchors: PytorchAnchor[] = [];
  for (const python of pythons) {
    const r = runPythonJson(python, PROJECT_TORCH_SCRIPT, ['--version'], 120_000);
    if (isPytorchError(r)) throw new Error(`--python ${python}: cannot run torch (${r.error})`);
    const torch = String(r['torch']);
    const base = `torch${(torch.match(/^\d+(\.\d+)*/)?.[0] ?? 'unknown').replace(/\./g, '_')}`;
    let key = base;
    for (let n = 2; anchors.some((a) => a.key === key); n++) key = `${base}_${n}`;
    anchors.push({ python, torch, key });
  }
  return anchors;
}

/** Training samples/s of one model through `script` (torch_speed.py's command line) on one anchor. */
export function pytorchSamplesPerSecond(
  anchor: PytorchAnchor,
  script: string,
  model: string,
  batch: number,
  ewc: boolean,
  threads: number,
  steps: number,
): { samplesPerSecond: number; peakRssBytes?: number } | PytorchError {
  const args = ['--model', model, '--batch', String(batch), '--threads', String(threads), '--steps', String(steps)];
  if (ewc) args.push('--ewc');
  const r = runPythonJson(anchor.python, script, args);
  if (isPytorchError(r)) return r;
  const rate = Number(r['samples_per_s']);
  if (!Number.isFinite(rate)) return { error: 'no samples_per_s in the output' };
  const rss = Number(r['peak_rss_bytes']);
  return { samplesPerSecond: rate, ...(Number.isFinite(rss) ? { peakRssBytes: rss } : {}) };
}

/** p50/p99 (ms) of one prequential step (predict + train) at `batch` on one anchor (`torch_bench.py --online`). */
export function pytorchOnlineLatency(
  anchor: PytorchAnchor,
  batch: number,
  steps: number,
  warmup: number,
  threads: number,
): { p50Ms: number; p99Ms: number } | PytorchError {
  const args = [
    '--online',
    '--model',
    'mlp',
    '--batch',
    String(batch),
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--threads',
    String(threads),
  ];
  const r = runPythonJson(anchor.python, PROJECT_TORCH_SCRIPT, args);
  if (isPytorchError(r)) return r;
  const p50Ms = Number(r['p50_ms']);
  const p99Ms = Number(r['p99_ms']);
  if (!Number.isFinite(p50Ms) || !Number.isFinite(p99Ms)) return { error: 'no p50_ms/p99_ms in the output' };
  return { p50Ms, p99Ms };
}
