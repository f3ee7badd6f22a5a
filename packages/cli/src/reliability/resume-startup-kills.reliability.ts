import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core';
import { deterministicSummary, finalDigest, MAIN } from '../commands/e2e-harness.js';
import { patience } from '../testing/patience.js';
import { reportCases } from './cases.js';

/** A small split-MNIST pipeline with replay + EWC, a checkpoint every 4 batches (as signal-trials'). */
const PIPELINE = {
  name: 'resume-kills',
  seed: 29,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: {
    kind: 'mnist',
    scenario: { type: 'class-incremental', experiences: 3 },
    testFraction: 0.2,
    limitPerClass: 40,
  },
  model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.005 },
  strategy: [
    { kind: 'replay', bufferSize: 30 },
    { kind: 'ewc', lambda: 50 },
  ],
  training: { epochs: 3, batchSize: 8 },
  evaluation: { on: 'all', initial: true },
  checkpoint: { everyBatches: 4, keep: 2 },
};

const steps = (out: string): string[] => {
  const root = join(out, 'checkpoints');
  return existsSync(root) ? readdirSync(root).filter((n) => /^step-\d{12}$/.test(n)) : [];
};

interface Killed {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly ms: number;
  /** From spawn to the first checkpoint not in `before` (NaN if none appeared). */
  readonly firstNewMs: number;
  /** Whether a new checkpoint existed when the process was killed. */
  readonly killedAfterNew: boolean;
}

/**
 * `engram run --out out …extra`, watching `out/checkpoints` (every few ms) for a checkpoint not among
 * `before`. With `kill`, SIGKILLs the process `killAtMs` after spawn — or at once when a new checkpoint
 * shows up first, so a kill never lands after the start-up window however slow the machine is; without,
 * lets it finish (`stopAtNew`: SIGKILL once `stopAtNew` checkpoints exist instead).
 */
function run(
  file: string,
  out: string,
  extra: readonly string[],
  o: { killAtMs?: number; stopAtCount?: number } = {},
): Promise<Killed> {
  return new Promise((resolve) => {
    const before = new Set(steps(out));
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, 'run', file, '--out', out, '--quiet', ...extra], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let firstNewMs = NaN;
    let killedAfterNew = false;
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = (): void => {
      if (killed) return;
      killed = true;
      killedAfterNew = !Number.isNaN(firstNewMs);
      child.kill('SIGKILL');
    };
    const watch = setInterval(() => {
      const now = steps(out);
      if (Number.isNaN(firstNewMs) && now.some((n) => !before.has(n))) firstNewMs = performance.now() - t0;
      if (o.killAtMs !== undefined && (!Number.isNaN(firstNewMs) || performance.now() - t0 >= o.killAtMs)) kill();
      if (o.stopAtCount !== undefined && now.length >= o.stopAtCount) kill();
    }, 2);
    const guard = setTimeout(() => child.kill('SIGKILL'), patience(300_000)); // a hang, not a trial
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      clearInterval(watch);
      resolve({ code, signal, stderr, ms: performance.now() - t0, firstNewMs, killedAfterNew });
    });
  });
}

test('a SIGKILL at any of 20 moments of a --resume start-up leaves a run that the next --resume finishes bit-identical to the uninterrupted run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-resume-kills-'));
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(PIPELINE));
  try {
    const reference = await run(file, join(dir, 'ref'), []);
    assert.equal(reference.code, 0, reference.stderr);
    // A resume writes one more checkpoint than the uninterrupted run: the count is left out of the comparison.
    const comparable = (out: string): Record<string, unknown> => {
      const { checkpoints: _count, ...rest } = deterministicSummary(out);
      return rest;
    };
    const expected = comparable(join(dir, 'ref'));
    const digest = finalDigest(join(dir, 'ref'));

    // The interrupted run every trial starts from: killed (-9) once it has written two checkpoints.
    const base = join(dir, 'base');
    const crashed = await run(file, base, [], { stopAtCount: 2 });
    assert.equal(crashed.signal, 'SIGKILL', `the base run ended before its second checkpoint: ${crashed.stderr}`);
    const baseSteps = steps(base);
    assert.equal(baseSteps.length, 2);

    // How long a --resume takes from spawn to its first new checkpoint (the window the kills sample).
    const calibration = join(dir, 'calibration');
    cpSync(base, calibration, { recursive: true });
    const full = await run(file, calibration, ['--resume']);
    assert.equal(full.code, 0, full.stderr);
    assert.ok(full.firstNewMs > 0, 'the resumed run writes a checkpoint');
    assert.deepEqual(comparable(calibration), expected, 'an uninterrupted resume');
    assert.deepEqual(finalDigest(calibration), digest);

    const rng = new Rng(2027);
    const trials = 20;
    const outcomes: string[] = [];
    let inWindow = 0;
    // the window as last seen: a trial that reached its first new checkpoint measures it again, so a
    // machine that got faster or slower since the calibration keeps the moments spread over it
    let windowMs = full.firstNewMs;
    for (let i = 0; i < trials; i++) {
      // one moment in each twentieth of the window, from process start to the first new checkpoint
      const killAtMs = Math.round((windowMs * (i + rng.next())) / trials);
      const out = join(dir, `t${i}`);
      cpSync(base, out, { recursive: true });
      const killed = await run(file, out, ['--resume'], { killAtMs });
      const what = `trial ${i}: SIGKILL ${killAtMs} ms after spawn (first new checkpoint at ${Math.round(full.firstNewMs)} ms in calibration)`;
      outcomes.push(
        `${i}: ${killAtMs} ms → ${killed.signal ?? killed.code}${killed.killedAfterNew ? ' (at the first new checkpoint)' : ''}`,
      );
      if (!killed.killedAfterNew) inWindow++;
      if (!Number.isNaN(killed.firstNewMs)) windowMs = killed.firstNewMs;
      assert.equal(killed.signal, 'SIGKILL', `${what}: ended by itself (${killed.code}): ${killed.stderr}`);
      // the earlier history is intact: never truncated, whatever moment the kill hit
      assert.ok(statSync(join(out, 'metrics.jsonl')).size >= statSync(join(base, 'metrics.jsonl')).size, what);
      const resumed = await run(file, out, ['--resume']);
      assert.equal(resumed.code, 0, `${what}: ${resumed.stderr}`);
      assert.doesNotMatch(resumed.stderr, /skipping|corrupt/, what);
      assert.deepEqual(comparable(out), expected, what);
      assert.deepEqual(finalDigest(out), digest, what);
      rmSync(out, { recursive: true, force: true });
    }
    t.diagnostic(
      `cases: ${trials} resume start-up kills (${inWindow} before the first new checkpoint, the others at it); start-up window ${Math.round(full.firstNewMs)} ms; ${outcomes.join('; ')}`,
    );
    assert.ok(inWindow >= trials / 2, `only ${inWindow} of ${trials} kills landed before the first new checkpoint`);
    reportCases('resume-startup-kills', trials);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
