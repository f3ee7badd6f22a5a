import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core/internal';
import { patience } from '../testing/patience.js';
import { postJson, startServedRun } from './testing/served-run.js';

const CENTRES = [
  [3, 0],
  [-2, 2.5],
  [-2, -2.5],
];
const PER_REQUEST = 50;
/** Feedback for request k is sent after request k + DELAY was answered. */
const DELAY = 2;

interface Versions {
  served: { version: number; step: number } | null;
  latest: { version: number } | null;
  kept: number[];
  counts: { promoted: number; rejected: number };
  feedback: { served: { labelled: number; accuracy: number }; shadow: { labelled: number; accuracy: number } };
  versions: Array<{ version: number; status: string; decision: string; checks: unknown[] }>;
}

test('promotion gates: when the stream turns into wrong labels the served version stops advancing, predictions keep their accuracy, and force-promote and rollback behave as documented', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-gates-'));
  const channel = `gates-${process.pid}`;
  const run = await startServedRun(
    {
      name: 'gates',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'feedback', inputShape: [2], numClasses: 3, buffer: 256, policy: 'block', channel },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.01 },
      strategy: { kind: 'naive' },
      training: { batchSize: 16, maxSamples: 100_000, logEvery: 5 },
      evaluation: { window: 300 },
      checkpoint: { enabled: false },
    },
    dir,
    {
      publishEvery: 10,
      feedback: { channel, ttlSeconds: 600, maxBytes: 1 << 22 },
      promote: { maxForgetting: 5, heldOut: 150, finite: true, feedback: { last: 200, tolerance: 5, minRecords: 20 } },
      shadow: true,
    },
  );
  const get = async (): Promise<Versions> => (await (await fetch(`${run.base}/versions`)).json()) as Versions;
  /** Polls GET /versions until `ok` holds; a hang guard only (patience), nothing is timed. */
  const until = async (ok: (v: Versions) => boolean, what: string): Promise<Versions> => {
    const limit = Date.now() + patience(60_000);
    for (;;) {
      const v = await get();
      if (ok(v)) return v;
      assert.ok(
        Date.now() < limit,
        `waited too long for ${what}: ${JSON.stringify({ ...v, versions: v.versions.slice(-3) })}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const rng = new Rng(11);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const pending: Array<Array<{ id: string; y: number }>> = [];
    /** Serves `requests` requests of clean instances; feedback labels are true, or shifted by one class when `wrong`. */
    const phase = async (requests: number, wrong: boolean): Promise<{ accuracy: number; versions: Set<number> }> => {
      let right = 0;
      let total = 0;
      const versions = new Set<number>();
      for (let k = 0; k < requests; k++) {
        const ys = Array.from({ length: PER_REQUEST }, () => Math.floor(rng.next() * 3));
        const instances = ys.map((y) => (CENTRES[y] as number[]).map((c) => c + gauss()));
        let r = await postJson(`${run.base}/predict`, { instances });
        while (r.status === 503) r = await postJson(`${run.base}/predict`, { instances });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        versions.add((r.body.model as { version: number }).version);
        const preds = r.body.predictions as Array<{ id: string; label: number }>;
        preds.forEach((p, i) => {
          right += p.label === ys[i] ? 1 : 0;
          total++;
        });
        pending.push(preds.map((p, i) => ({ id: p.id, y: wrong ? ((ys[i] as number) + 1) % 3 : (ys[i] as number) })));
        while (pending.length > DELAY)
          for (const f of pending.shift() ?? []) assert.equal((await postJson(`${run.base}/feedback`, f)).status, 202);
      }
      return { accuracy: right / total, versions };
    };

    // Clean: the model learns, versions pass the gates.
    await phase(20, false);
    const late = await phase(10, false);
    const beforeNoise = await get();
    assert.ok(late.accuracy > 0.85, `the served model learned the clean stream: ${late.accuracy}`);
    assert.ok((beforeNoise.served?.version ?? 0) > 3, `versions were promoted: ${JSON.stringify(beforeNoise.served)}`);

    // Wrong labels from here on: new versions learn them and fail the forgetting check.
    const noisy = await phase(40, true);
    const afterNoise = await until((v) => v.counts.rejected >= 3, 'three rejections');
    // Versions trained only on clean records may still be promoted while training catches up with the
    // feedback; once one is rejected, every later one is (they have learned more wrong labels).
    const ordered = afterNoise.versions.filter((r) => r.version > (beforeNoise.served?.version ?? 0));
    const firstRejected = ordered.findIndex((r) => r.decision.startsWith('rejected'));
    const trace = ordered.map((r) => `${r.version}:${r.decision}`).join(' ');
    assert.ok(firstRejected >= 0, trace);
    assert.deepEqual(
      ordered.slice(firstRejected).filter((r) => r.decision.startsWith('promoted')),
      [],
      `the served version stops advancing: ${trace}`,
    );
    assert.ok(
      noisy.accuracy > late.accuracy - 0.05,
      `predictions keep the earlier accuracy: ${late.accuracy} before, ${noisy.accuracy} during the wrong labels`,
    );
    assert.ok(afterNoise.feedback.shadow.labelled > 0, 'the rejected candidate shadowed requests and was scored');
    const served = afterNoise.served?.version ?? 0;
    const candidate = afterNoise.latest?.version ?? 0;
    assert.ok(candidate > served, `a newer rejected version is kept: ${candidate} vs ${served}`);

    // Force-promote the rejected candidate: it is served, and its predictions are wrong on clean data.
    const forced = await postJson(`${run.base}/versions/${candidate}/promote`, {});
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal((forced.body.served as { version: number }).version, candidate);
    const bad = await phase(4, true);
    assert.ok(bad.accuracy < late.accuracy - 0.2, `the forced version answers worse: ${bad.accuracy}`);

    // Roll back: the earlier version is served again and predicts as before.
    const back = await postJson(`${run.base}/rollback`, {});
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal((back.body.served as { version: number }).version, served);
    const rejectedBefore = (back.body.counts as { rejected: number }).rejected;
    const restored = await phase(6, true);
    assert.ok(restored.accuracy > late.accuracy - 0.05, `rolled back: ${restored.accuracy}`);
    // The gates compare the next versions with the rolled-back one: they are rejected again.
    await until((v) => v.counts.rejected > rejectedBefore, 'a rejection after the rollback');
    const again = await postJson(`${run.base}/rollback`, {});
    assert.equal(again.status, 409, 'only one earlier version is kept: nothing further to roll back to');
    const unknown = await postJson(`${run.base}/versions/1/promote`, {});
    assert.equal(unknown.status, 404);
    const metrics = await (await fetch(`${run.base}/metrics`)).text();
    assert.match(metrics, /^engram_versions_rejected_total\{check="forgetting"\} [1-9]\d*$/m);
    assert.match(metrics, /^engram_versions_promoted_total\{reason="rollback"\} 1$/m);
    assert.match(metrics, /^engram_feedback_accuracy\{model="shadow"\} [\d.]+$/m);
    await run.close();

    const events = readFileSync(join(run.outDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = events.filter((e) => e.type === 'version-rejected');
    assert.ok(rejected.length >= 3, `version-rejected events in metrics.jsonl: ${rejected.length}`);
    const first = rejected[0] as {
      check: string;
      message: string;
      checks: Array<Record<string, number | string | boolean>>;
    };
    assert.equal(first.check, 'forgetting');
    assert.match(
      first.message,
      /held-out slice of experience 0 \(150 samples\).* scores [\d.]+% against the served [\d.]+% \(best served [\d.]+%\)/,
    );
    const failed = first.checks.find((c) => c.passed === false) as { candidate: number; limit: number };
    assert.ok(failed.candidate < failed.limit, JSON.stringify(first.checks));
    const promoted = events.filter((e) => e.type === 'version-promoted');
    assert.deepEqual(
      [...new Set(promoted.map((e) => e.reason))].sort(),
      ['first', 'forced', 'gates', 'rollback'],
      'every kind of promotion is an event',
    );
    process.stdout.write(
      `clean ${late.accuracy.toFixed(3)}, during wrong labels ${noisy.accuracy.toFixed(3)}, forced ${bad.accuracy.toFixed(3)}, ` +
        `rolled back ${restored.accuracy.toFixed(3)}; rejected ${rejected.length}, first: ${first.message}\n`,
    );
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
