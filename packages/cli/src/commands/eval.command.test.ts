import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

/** A small split-MNIST class-incremental pipeline with `strategy`, checkpointed at its end. */
function pipeline(dir: string, strategy: unknown): string {
  const file = join(dir, 'p.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'evaluated',
      seed: 4,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: {
        kind: 'mnist',
        flatten: true,
        scenario: { type: 'class-incremental', experiences: 3 },
        testFraction: 0.2,
        limitPerClass: 40,
      },
      model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.005 },
      strategy,
      training: { epochs: 2, batchSize: 16 },
      evaluation: { on: 'all', initial: false },
      checkpoint: { enabled: true },
    }),
  );
  return file;
}

const engram = (args: string[]) =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: patience(120_000) });

const strategies = [
  ['naive', { kind: 'naive' }],
  ['iCaRL, nearest-mean-of-exemplars', { kind: 'icarl', bufferSize: 30 }],
  ['Hedge, the α-weighted mixture of its heads', { kind: 'hedge', beta: 0.9, s: 0.2 }],
] as const;
for (const [label, strategy] of strategies) {
  test(`engram eval scores the final checkpoint as the run scored its last row (${label})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-eval-'));
    const file = pipeline(dir, strategy);
    const run = engram(['run', file, '--out', join(dir, 'out'), '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    const last = (
      JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as { accuracyMatrix: number[][] }
    ).accuracyMatrix.at(-1);
    const evaluated = engram(['eval', file, '--checkpoint', join(dir, 'out'), '--json']);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const r = JSON.parse(evaluated.stdout) as { results: Array<{ experience: number; accuracy: number }> };
    assert.deepEqual(
      r.results.map((x) => x.accuracy),
      last,
    );
  });
}
