import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core';
import { deterministicSummary, finalDigest, MAIN } from '../commands/e2e-harness.js';

/** A small split-MNIST pipeline (a few seconds) with replay + EWC, checkpoints every 4 batches. */
const PIPELINE = {
  name: 'signals', seed: 13, backend: 'cpu', plugins: ['@engram/datasets', '@engram/strategies'],
  data: { kind: 'mnist', scenario: { type: 'class-incremental', experiences: 3 }, testFraction: 0.2, limitPerClass: 40 },
  model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.005 },
  strategy: [{ kind: 'replay', bufferSize: 30 }, { kind: 'ewc', lambda: 50 }],
  training: { epochs: 3, batchSize: 8 },
  evaluation: { on: 'all', initial: true },
  checkpoint: { everyBatches: 4, keep: 2 },
};

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

/** `engram run` (with `extra` flags); sends `signal` after `afterMs` when given. */
function run(file: string, out: string, extra: readonly string[], kill?: { signal: NodeJS.Signals; afterMs: number }): Promise<Ended> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, 'run', file, '--out', out, '--quiet', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = kill ? setTimeout(() => child.kill(kill.signal), kill.afterMs) : undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, signal, stderr, ms: performance.now() - t0 });
    });
  });
}

test('SIGINT and SIGTERM at seeded random moments exit 130/143 with a stopped summary, and --resume ends equal to the uninterrupted run', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-signals-'));
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(PIPELINE));
  const reference = await run(file, join(dir, 'ref'), []);
  assert.equal(reference.code, 0, reference.stderr);
  // A stop writes one more checkpoint than the uninterrupted run: the count is left out of the comparison.
  const comparable = (out: string): Record<string, unknown> => {
    const { checkpoints: _count, ...rest } = deterministicSummary(out);
    return rest;
  };
  const expected = comparable(join(dir, 'ref'));
  const rng = new Rng(2026);
  const trials = 6;
  let stopped = 0;
  for (let i = 0; i < trials; i++) {
    const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    // anywhere from start-up to the last experience
    const afterMs = Math.round(reference.ms * (0.1 + 0.8 * rng.next()));
    const out = join(dir, `t${i}`);
    const first = await run(file, out, [], { signal, afterMs });
    const what = `trial ${i}: ${signal} after ${afterMs} ms of ${Math.round(reference.ms)}`;
    if (first.code === 0) continue; // the run finished before the signal: nothing to stop
    if (first.code === null) {
      // Still loading Node and the plugins, before the run installed its handlers: the signal's default
      // action (the shell sees 128 + n, as for a stopped run) and nothing written yet.
      assert.equal(first.signal, signal, `${what}: ${first.stderr}`);
      assert.equal(existsSync(join(out, 'summary.json')), false, what);
    } else {
      assert.equal(first.code, signal === 'SIGINT' ? 130 : 143, `${what}: ${first.signal ?? ''} ${first.stderr}`);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { status: string; stopped: string | null; averageAccuracy: number | null };
      assert.equal(summary.status, 'stopped', what);
      assert.equal(summary.stopped, signal, what);
      assert.equal(summary.averageAccuracy, null, `${what}: a stopped run shows no final-looking figures`);
      stopped++;
    }
    const resumed = await run(file, out, ['--resume']);
    assert.equal(resumed.code, 0, `${what}: ${resumed.stderr}`);
    assert.deepEqual(comparable(out), expected, what);
    assert.deepEqual(finalDigest(out), finalDigest(join(dir, 'ref')), what);
  }
  assert.ok(stopped >= trials / 2, `only ${stopped} of ${trials} trials were stopped by their signal`);
});
