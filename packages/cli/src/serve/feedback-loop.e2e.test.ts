import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core/internal';
import { spawnServed } from './testing/spawn-served.js';

const CENTRES = [
  [3, 0],
  [-2, 2.5],
  [-2, -2.5],
];
const SAMPLES = 5000;
const PER_REQUEST = 50;
/** Labels of batch k are sent after batch k + DELAY has been predicted: they arrive 150 samples late. */
const DELAY = 3;

test('delayed labels: a stream pipeline with --serve learns from feedback on 5,000 predictions, and its accuracy rises', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-feedback-'));
  const pipeline = {
    name: 'feedback-loop',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'feedback', inputShape: [2], numClasses: 3, buffer: 256, policy: 'block', channel: 'default' },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    training: { batchSize: 16, maxSamples: SAMPLES, logEvery: 5 },
    evaluation: { window: 300 },
    checkpoint: { enabled: false },
    serve: { port: 9, publishEvery: 5, linger: false },
  };
  writeFileSync(join(dir, 'feedback.pipeline.json'), JSON.stringify(pipeline));
  const out = join(dir, 'run');
  // The flag wins over the pipeline's port 9.
  const server = await spawnServed([
    'run',
    join(dir, 'feedback.pipeline.json'),
    '--out',
    out,
    '--quiet',
    '--serve',
    '127.0.0.1:0',
  ]);
  try {
    const rng = new Rng(11);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const correct: number[] = [];
    const pending: Array<Array<{ id: string; y: number }>> = [];
    const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${server.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    let firstSent: { id: string; y: number } | undefined;
    const sendFeedback = async (batch: Array<{ id: string; y: number }>): Promise<void> => {
      for (const f of batch) {
        firstSent ??= f;
        const r = await post('/feedback', f);
        assert.equal(r.status, 202, `feedback accepted: ${JSON.stringify(r.body)}`);
      }
    };
    for (let k = 0; k < SAMPLES / PER_REQUEST; k++) {
      const ys = Array.from({ length: PER_REQUEST }, () => Math.floor(rng.next() * 3));
      const instances = ys.map((y) => (CENTRES[y] as number[]).map((c) => c + gauss()));
      let r = await post('/predict', { instances });
      while (r.status === 503) r = await post('/predict', { instances }); // until the first version is published
      assert.equal(r.status, 200);
      const preds = r.body.predictions as Array<{ id: string; label: number }>;
      preds.forEach((p, i) => correct.push(p.label === ys[i] ? 1 : 0));
      pending.push(preds.map((p, i) => ({ id: p.id, y: ys[i] as number })));
      if (pending.length > DELAY) await sendFeedback(pending.shift() ?? []);
      if (k === 10) {
        const unknown = await post('/feedback', { id: 'no-such-prediction', y: 0 });
        assert.equal(unknown.status, 404);
        assert.equal(unknown.body.reason, 'unknown');
        const first = pending[0]?.[0];
        const bad = await post('/feedback', { id: first?.id, y: 7 });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.path, '/y');
        const again = await post('/feedback', firstSent);
        assert.equal(again.status, 404);
        assert.equal(again.body.reason, 'already-labelled');
      }
    }
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(metrics, /^engram_predictions_total 5000$/m);
    assert.match(metrics, /^engram_feedback_total\{result="accepted"\} \d+$/m);
    while (pending.length > 0) await sendFeedback(pending.shift() ?? []);
    assert.equal(await server.exited, 0, server.stderr());

    const early = correct.slice(0, 500).reduce((a, b) => a + b, 0) / 500;
    const late = correct.slice(-1000).reduce((a, b) => a + b, 0) / 1000;
    assert.ok(late > 0.85, `served predictions become accurate: last 1,000 ${late}`);
    assert.ok(late > early + 0.2, `accuracy rises with the delayed labels: first 500 ${early}, last 1,000 ${late}`);
    const events = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; windowAccuracy?: number; samples?: number });
    const preq = events.filter((e) => e.type === 'prequential');
    const firstWindow = preq[0]?.windowAccuracy ?? 1; // the first 80 labelled samples, tested before they were trained on
    const lastWindow = preq[preq.length - 1]?.windowAccuracy ?? 0;
    assert.ok(lastWindow > firstWindow + 0.2, `prequential accuracy rises: ${firstWindow} → ${lastWindow}`);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      status: string;
      trainSamples: number;
    };
    assert.equal(summary.status, 'completed');
    assert.ok(summary.trainSamples >= SAMPLES);
  } finally {
    server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
