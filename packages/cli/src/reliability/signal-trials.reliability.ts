import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core';
import { deterministicSummary, finalDigest, MAIN } from '../commands/e2e-harness.js';
import { patience } from '../testing/patience.js';
import { reportCases } from './cases.js';

/** A small split-MNIST pipeline (a few seconds) with replay + EWC, checkpoints every 4 batches. */
const PIPELINE = {
  name: 'signals',
  seed: 13,
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

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly ms: number;
  /** From spawn to the "outputs in" line, printed right before the run installs its signal handlers (NaN if never). */
  readonly readyMs: number;
}

/**
 * `engram run` (with `extra` flags); when `kill` is given, sends `signal` `afterMs` after the run
 * printed where its outputs go — the step right before it installs its SIGINT/SIGTERM handlers, so
 * the signal lands in the run itself, not in Node's start-up, however long loading the plugins takes
 * (with `fromSpawn`, `afterMs` after the spawn instead).
 */
function run(
  file: string,
  out: string,
  extra: readonly string[],
  kill?: { signal: NodeJS.Signals; afterMs: number; fromSpawn?: true },
): Promise<Ended> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, 'run', file, '--out', out, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    let readyMs = NaN;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (!Number.isNaN(readyMs)) return;
      stdout += d.toString();
      if (!stdout.includes('outputs in ')) return;
      readyMs = performance.now() - t0;
      if (kill && !kill.fromSpawn) timer = setTimeout(() => child.kill(kill.signal), kill.afterMs);
    });
    if (kill?.fromSpawn) timer = setTimeout(() => child.kill(kill.signal), kill.afterMs);
    const guard = setTimeout(() => child.kill('SIGKILL'), patience(180_000));
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, signal, stderr, ms: performance.now() - t0, readyMs });
    });
  });
}

test(
  'SIGINT and SIGTERM at seeded random moments exit 130/143 with a stopped summary, and --resume ends equal to ' +
    'the uninterrupted run',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-signals-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(PIPELINE));
    // Two uninterrupted runs: the first also pays for cold caches (modules, the dataset's files); the
    // second is the reference the resumed runs are compared with.
    const cold = await run(file, join(dir, 'cold'), []);
    assert.equal(cold.code, 0, cold.stderr);
    const reference = await run(file, join(dir, 'ref'), []);
    assert.equal(reference.code, 0, reference.stderr);
    assert.ok(reference.readyMs > 0, 'the run says where its outputs go before it trains');
    // The shorter of the two runs' training phases (runs here vary by up to 1.7× from one to the next).
    const runMs = Math.min(reference.ms - reference.readyMs, cold.ms - cold.readyMs);
    // A stop writes one more checkpoint than the uninterrupted run: the count is left out of the comparison.
    const comparable = (out: string): Record<string, unknown> => {
      const { checkpoints: _count, ...rest } = deterministicSummary(out);
      return rest;
    };
    const expected = comparable(join(dir, 'ref'));
    const rng = new Rng(2026);
    const trials = 6;
    let stopped = 0;
    const outcomes: string[] = [];
    for (let i = 0; i < trials; i++) {
      const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
      // anywhere from the first experience to the last one
      const afterMs = Math.round(runMs * (0.05 + 0.85 * rng.next()));
      const out = join(dir, `t${i}`);
      const first = await run(file, out, [], { signal, afterMs });
      const what = `trial ${i}: ${signal} ${afterMs} ms into a ${Math.round(runMs)} ms run`;
      outcomes.push(`${what} → ${first.code ?? first.signal} in ${Math.round(first.ms)} ms`);
      if (first.code === 0) continue; // the run finished before the signal: nothing to stop
      assert.equal(first.code, signal === 'SIGINT' ? 130 : 143, `${what}: ${first.signal ?? ''} ${first.stderr}`);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        status: string;
        stopped: string | null;
        averageAccuracy: number | null;
      };
      assert.equal(summary.status, 'stopped', what);
      assert.equal(summary.stopped, signal, what);
      assert.equal(summary.averageAccuracy, null, `${what}: a stopped run shows no final-looking figures`);
      stopped++;
      const resumed = await run(file, out, ['--resume']);
      assert.equal(resumed.code, 0, `${what}: ${resumed.stderr}`);
      assert.deepEqual(comparable(out), expected, what);
      assert.deepEqual(finalDigest(out), finalDigest(join(dir, 'ref')), what);
    }
    // During start-up, before the handlers exist, a signal takes its default action and nothing is written.
    const early = await run(file, join(dir, 'early'), [], { signal: 'SIGTERM', afterMs: 30, fromSpawn: true });
    assert.equal(early.signal, 'SIGTERM', `a signal 30 ms after spawn: ${early.code ?? ''} ${early.stderr}`);
    assert.equal(existsSync(join(dir, 'early', 'summary.json')), false);
    t.diagnostic(
      `cold run ${Math.round(cold.ms)} ms, start-up ${Math.round(reference.readyMs)} ms; ${outcomes.join('; ')}`,
    );
    assert.ok(
      stopped >= trials - 2,
      `only ${stopped} of ${trials} trials were stopped by their signal (start-up ${Math.round(reference.readyMs)} ` +
        `ms):\n${outcomes.join('\n')}`,
    );
    // the trials a signal stopped (each resumed and compared) and the start-up signal
    reportCases('signal-trials', stopped + 1);
  },
);
