import { spawnSync } from 'node:child_process';

/**
 * Runs the PyTorch reference script (e.g. `../shared/bench/torch_speed.py`) for one configuration and
 * returns its samples/s, or the reason it could not run. The script path comes from the command line;
 * Engram itself never depends on it.
 */
export function pytorchSamplesPerSecond(script: string, model: 'mlp' | 'cnn', batch: number, ewc: boolean): number | { error: string } {
  const args = [script, '--model', model, '--batch', String(batch), '--threads', '2', '--steps', model === 'mlp' ? '100' : '20'];
  if (ewc) args.push('--ewc');
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-1)[0] ?? 'failed' };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(line) as { samples_per_s: number }).samples_per_s;
  } catch {
    return { error: `unexpected output: ${line.slice(0, 200)}` };
  }
}
