import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GateCheck } from '@engram/core';
import { Rng } from '@engram/core/internal';
import { postJson, startServedRun } from './testing/served-run.js';

const CENTRES = [
  [3, 0],
  [-2, 2.5],
  [-2, -2.5],
];
const PER_REQUEST = 50;
/** Feedback for request k is sent after request k + DELAY was answered. */
const DELAY = 2;
const MAX_FORGETTING = 5;

interface Decision {
  type: string;
  version: number;
  reason?: string;
  checks: GateCheck[];
}

test("when a live stream turns to random labels the served version stays within the gates, predictions keep their accuracy, and a replay strategy's memory is scored too", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-noise-'));
  const channel = `noise-${process.pid}`;
  const run = await startServedRun(
    {
      name: 'noise',
      seed: 9,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'feedback', inputShape: [2], numClasses: 3, buffer: 256, policy: 'block', channel },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.01 },
      strategy: { kind: 'replay', bufferSize: 300 },
      training: { batchSize: 16, maxSamples: 100_000, logEvery: 5 },
      evaluation: { window: 300 },
      checkpoint: { enabled: false },
    },
    dir,
    {
      publishEvery: 10,
      feedback: { channel, ttlSeconds: 600, maxBytes: 1 << 22 },
      promote: { maxForgetting: MAX_FORGETTING, heldOut: 150, finite: true },
    },
  );
  try {
    const rng = new Rng(13);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const pending: Array<Array<{ id: string; y: number }>> = [];
    /** Serves `requests` requests of clean instances; feedback labels are true, or uniformly random when `random`. */
    const phase = async (requests: number, random: boolean): Promise<{ accuracy: number; versions: Set<number> }> => {
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
        pending.push(preds.map((p, i) => ({ id: p.id, y: random ? Math.floor(rng.next() * 3) : (ys[i] as number) })));
        while (pending.length > DELAY)
          for (const f of pending.shift() ?? []) assert.equal((await postJson(`${run.base}/feedback`, f)).status, 202);
      }
      return { accuracy: right / total, versions };
    };

    await phase(20, false);
    const clean = await phase(10, false);
    assert.ok(clean.accuracy > 0.85, `the served model learned the clean stream: ${clean.accuracy}`);
    const noisy = await phase(40, true);
    const after = await phase(10, true);
    // The gates let a version lose up to MAX_FORGETTING points on a held-out slice of 150 rows, and the clean
    // phase's accuracy is itself measured on 500 predictions: the bound allows both (3 standard errors of the two
    // samples). A model trained on the random labels without the gates falls towards chance (1/3), far below it.
    const se = (n: number): number => Math.sqrt((clean.accuracy * (1 - clean.accuracy)) / n);
    const tolerance = MAX_FORGETTING / 100 + 3 * Math.hypot(se(10 * PER_REQUEST), se(150));
    assert.ok(
      noisy.accuracy > clean.accuracy - tolerance && after.accuracy > clean.accuracy - tolerance,
      `predictions keep the earlier accuracy within ${tolerance.toFixed(3)}: ${clean.accuracy} clean, ${noisy.accuracy} then ${after.accuracy} on random labels`,
    );
    await run.close();

    const decisions = readFileSync(join(run.outDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Decision)
      .filter((e) => e.type === 'version-promoted' || e.type === 'version-rejected');
    const gated = decisions.filter((d) => d.type === 'version-rejected' || d.reason === 'gates');
    assert.ok(gated.length >= 10, `versions went through the gates: ${gated.length}`);
    // Every promotion through the gates kept the held-out accuracy within maxForgetting of the best served one.
    for (const d of gated.filter((g) => g.type === 'version-promoted'))
      for (const c of d.checks.filter((k) => k.name === 'forgetting'))
        assert.ok(
          (c.candidate ?? 0) >= (c.best ?? 1) - MAX_FORGETTING / 100 - 1e-9,
          `version ${d.version} promoted within tolerance: ${JSON.stringify(c)}`,
        );
    // Once the memory holds rows, each gated version is scored on the experience's slice and on the memory's.
    const withMemory = gated.filter((d) => d.checks.some((c) => c.slice === 'replay'));
    assert.ok(withMemory.length >= gated.length - 1, `${withMemory.length} of ${gated.length} scored on the memory`);
    const replay = withMemory.map((d) => d.checks.find((c) => c.slice === 'replay') as GateCheck);
    // The slice is the whole memory while it holds fewer than heldOut rows, then heldOut rows of it.
    const sizes = replay.map((c) => c.samples);
    assert.ok(
      sizes.every((n, i) => i === 0 || n >= (sizes[i - 1] as number)) && sizes[sizes.length - 1] === 150,
      `memory slices grow to 150 rows: ${sizes.slice(0, 20).join(',')}…${sizes[sizes.length - 1]}`,
    );
    const held = gated.map((d) => d.checks.find((c) => c.experience === 0)?.candidate ?? 0);
    const rejected = gated.filter((d) => d.type === 'version-rejected');
    process.stdout.write(
      `clean ${clean.accuracy.toFixed(3)}, random labels ${noisy.accuracy.toFixed(3)} then ${after.accuracy.toFixed(3)}; ` +
        `${gated.length} gated versions, ${rejected.length} rejected (${[...new Set(rejected.map((r) => r.checks.find((c) => !c.passed)?.slice ?? 'experience'))].join(', ')}); ` +
        `held-out accuracy of candidates min ${Math.min(...held).toFixed(3)} max ${Math.max(...held).toFixed(3)}; ` +
        `replay slice served ${replay
          .map((c) => (c.served ?? 0).toFixed(2))
          .slice(-5)
          .join(' ')}\n`,
    );
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
