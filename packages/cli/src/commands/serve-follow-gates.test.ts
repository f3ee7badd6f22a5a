import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runPipeline, type GateCheck } from '@engram/core';
import { loadPipelineFile } from '../cli-context.js';
import { checkpointDirs } from './e2e-harness.js';
import { spawnServed, type SpawnedServer } from '../serve/testing/spawn-served.js';
import { postJson } from '../serve/testing/served-run.js';
import { patience } from '../testing/patience.js';

interface Versions {
  served: { version: number; step: number } | null;
  counts: { promoted: number; rejected: number };
  versions: Array<{ version: number; step: number; decision: string; checks: GateCheck[] }>;
}

/** Trains `doc` to `dir/run` and returns its checkpoint directories, oldest first. */
async function train(dir: string, doc: Record<string, unknown>): Promise<string[]> {
  const file = join(dir, 'pipeline.json');
  writeFileSync(file, JSON.stringify(doc));
  await runPipeline(await loadPipelineFile(file), { outDir: join(dir, 'run') });
  return checkpointDirs(join(dir, 'run'));
}

/** Serves a folder holding `first` with --follow, then renames `next` into it and waits for a decision on it. */
async function follow(
  dir: string,
  first: string,
  next: string,
  between: (s: SpawnedServer) => Promise<void>,
): Promise<{ before: Versions; after: Versions; stderr: string }> {
  const folder = join(dir, 'follow', 'checkpoints');
  mkdirSync(folder, { recursive: true });
  cpSync(first, join(folder, basename(first)), { recursive: true });
  const s = await spawnServed(['serve', join(dir, 'follow'), '--port', '0', '--follow', '--poll-seconds', '0.2']);
  const get = async (): Promise<Versions> => (await (await fetch(`${s.base}/versions`)).json()) as Versions;
  try {
    await between(s);
    const before = await get();
    cpSync(next, join(dir, 'follow', 'incoming'), { recursive: true });
    renameSync(join(dir, 'follow', 'incoming'), join(folder, basename(next)));
    const deadline = Date.now() + patience(30_000);
    let after = await get();
    while (after.versions.length < 2) {
      assert.ok(Date.now() < deadline, `no decision on the newer checkpoint: ${s.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
      after = await get();
    }
    return { before, after, stderr: s.stderr() };
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
}

test('engram serve --follow refuses a checkpoint that forgot an earlier experience, scored on the test sets and on labels sent to its own /feedback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-follow-gates-'));
  try {
    const all = await train(dir, {
      name: 'follow-gates',
      seed: 3,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: {
        kind: 'synthetic',
        numClasses: 4,
        features: 4,
        samplesPerClass: 60,
        spread: 0.5,
        scenario: { type: 'class-incremental', classesPerExperience: 2 },
        testFraction: 0.25,
      },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.02 },
      strategy: { kind: 'naive' },
      training: { epochs: 6, batchSize: 16 },
      checkpoint: { enabled: true, keep: 10 },
      serve: { promote: { maxForgetting: 5, heldOut: 20, feedback: { last: 50, tolerance: 5, minRecords: 10 } } },
    });
    assert.equal(all.length, 2, 'one checkpoint per experience');
    let fed = 0;
    const { before, after, stderr } = await follow(dir, all[0] as string, all[1] as string, async (s) => {
      // Feedback on experience 0's classes, labelled as the served version (trained on them) predicts them.
      const instances = Array.from({ length: 20 }, (_, i) =>
        [i % 2 === 0 ? 2 : -2, 0, 0, 0].map((v, k) => v + k * 0.01),
      );
      const p = await postJson(`${s.base}/predict`, { instances });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      for (const pred of p.body.predictions as Array<{ id: string; label: number }>) {
        const r = await postJson(`${s.base}/feedback`, { id: pred.id, y: pred.label });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        fed++;
      }
    });
    assert.equal(fed, 20);
    assert.equal(before.served?.version, 1);
    const decided = after.versions.find((v) => v.version === 2);
    assert.ok(decided, JSON.stringify(after));
    assert.equal(after.served?.version, 1, `the forgetting checkpoint is not served: ${stderr}`);
    assert.equal(after.counts.rejected, 1);
    assert.match(stderr, /not serving .*\(model version 2\): rejected/);
    const byName = (n: string, e?: number): GateCheck | undefined =>
      decided.checks.find((c) => c.name === n && (e === undefined || c.experience === e));
    const e0 = byName('forgetting', 0);
    const e1 = byName('forgetting', 1);
    const fb = byName('feedback');
    assert.ok(e0 && e1 && fb, JSON.stringify(decided.checks));
    assert.equal(e0.samples, 20, 'the first heldOut samples of the test set');
    assert.ok((e0.served ?? 0) >= 0.9 && (e0.candidate ?? 1) <= 0.5, `experience 0 forgotten: ${JSON.stringify(e0)}`);
    assert.equal(e0.passed, false);
    assert.ok((e1.candidate ?? 0) > (e1.served ?? 1), `experience 1 learned: ${JSON.stringify(e1)}`);
    assert.equal(fb.samples, 20, 'the 20 labels sent to /feedback');
    assert.equal(fb.served, 1, "they were the served version's own answers");
    assert.ok((fb.candidate ?? 1) < 0.5 && fb.passed === false, `feedback check: ${JSON.stringify(fb)}`);
    process.stdout.write(
      `experience 0: served ${e0.served}, candidate ${e0.candidate}; experience 1: served ${e1.served}, candidate ${e1.candidate}; ` +
        `feedback: served ${fb.served}, candidate ${fb.candidate}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("engram serve --follow scores a live stream's checkpoints on a seeded slice of the replay memory they hold", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-follow-memory-'));
  try {
    const all = await train(dir, {
      name: 'follow-memory',
      seed: 4,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'synthetic', endless: true, numClasses: 3, features: 4, buffer: 64, policy: 'block' },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.02 },
      strategy: [{ kind: 'replay', bufferSize: 60 }],
      training: { batchSize: 8, maxSamples: 480, logEvery: 5 },
      checkpoint: { enabled: true, everyBatches: 5, keep: 20 },
      serve: { promote: { maxForgetting: 100, heldOut: 40 } },
    });
    assert.ok(all.length >= 2, `checkpoints: ${all.length}`);
    const { after } = await follow(dir, all[0] as string, all[all.length - 1] as string, async () => undefined);
    const decided = after.versions.find((v) => v.version === 2);
    assert.ok(decided, JSON.stringify(after));
    const replay = decided.checks.find((c) => c.slice === 'replay');
    assert.ok(replay, `a replay-memory check: ${JSON.stringify(decided.checks)}`);
    assert.equal(replay.samples, 40, 'heldOut rows of the 60 the newer checkpoint remembers');
    assert.ok(
      (replay.candidate ?? 0) >= 0.9 && (replay.candidate ?? 0) >= (replay.served ?? 1),
      `the newer version knows its memory at least as well as the step-5 one: ${JSON.stringify(replay)}`,
    );
    process.stdout.write(`replay slice: served (step 5) ${replay.served}, candidate ${replay.candidate}\n`);
    assert.equal(after.served?.version, 2, 'maxForgetting 100 lets it through');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
