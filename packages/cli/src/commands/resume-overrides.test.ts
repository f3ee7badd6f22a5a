import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deterministicSummary, finalDigest, MAIN, runEngram } from './e2e-harness.js';
import { patience } from '../testing/patience.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

// A resumed run must be the same run: the --set flags of its start are recorded in every checkpoint,
// and a --resume whose flags change the pipeline is refused (exit 2) naming the flag that differs.

function engram(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: patience(120_000) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pipelineFile(dir: string): string {
  const file = join(dir, 'p.pipeline.json');
  writeFileSync(
    file,
    JSON.stringify(
      syntheticPipeline({
        name: 'resume-sets',
        seed: 3,
        data: { samplesPerClass: 200, testFraction: 0.2 },
        checkpoint: { enabled: true, everyBatches: 3 },
      }),
    ),
  );
  return file;
}

const START = ['--set', 'training.epochs=2', '--set', 'checkpoint.keep=2'];

test('--resume with a missing, different or added --set that changes the pipeline exits 2 naming the flag; the same flags in any spelling resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-resume-sets-'));
  try {
    const file = pipelineFile(dir);
    const out = join(dir, 'out');
    const first = engram(['run', file, '--out', out, '--quiet', ...START]);
    assert.equal(first.status, 0, first.stderr);
    const started = '(--set training.epochs=2 --set checkpoint.keep=2)';

    const missing = engram(['run', file, '--out', out, '--resume']);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(
      missing.stderr,
      /^error: cannot resume from \S+: the pipeline changed since it was written \("training" differs\): it was started with --set training\.epochs=2, which this command lacks; give --resume the --set flags the run was started with /m,
    );
    assert.ok(missing.stderr.includes(started), missing.stderr);
    assert.doesNotMatch(
      missing.stderr,
      /checkpoint\.keep=2, which/,
      'a section a resume may change is not held against it',
    );

    const other = engram(['run', file, '--out', out, '--resume', '--set', 'training.epochs=3']);
    assert.equal(other.status, 2, other.stderr);
    assert.match(
      other.stderr,
      /this command has --set training\.epochs=3 where it was started with --set training\.epochs=2/,
    );

    const added = engram(['run', file, '--out', out, '--resume', ...START, '--set', 'seed=9']);
    assert.equal(added.status, 2, added.stderr);
    assert.match(added.stderr, /\("seed" differs\): this command adds --set seed=9, which its start did not have/);

    // The same flags, one as a JSON pointer, without the checkpoint one: the same run (already finished).
    const same = engram(['run', file, '--out', out, '--resume', '--set', '/training/epochs=2']);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stderr, /has already finished .*: nothing to resume/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run started with --set, killed and resumed with the same --set, ends bit-identical to an uninterrupted run with them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-resume-sets-kill-'));
  try {
    const file = pipelineFile(dir);
    const reference = await runEngram(file, join(dir, 'ref'), START);
    assert.equal(reference.code, 0, reference.stderr);
    const out = join(dir, 'killed');
    const killed = await runEngram(file, out, START, {
      killWhen: (line) => line.startsWith('{"type":"checkpoint"') && line.includes('"step":6,'),
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const resumed = await runEngram(file, out, ['--resume', ...START]);
    assert.equal(resumed.code, 0, resumed.stderr);
    // 2 experiences of 320 samples, 20 batches each, 2 epochs: 80 steps; the kill came at the checkpoint of step 6.
    const from = Number(/resuming from \S+ \(step (\d+),/.exec(resumed.stderr)?.[1]);
    assert.ok(from >= 6 && from < 80, `resumed from step ${from}: ${resumed.stderr}`);
    assert.deepEqual(deterministicSummary(out), deterministicSummary(join(dir, 'ref')));
    assert.deepEqual(finalDigest(out), finalDigest(join(dir, 'ref')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
