import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram/core/internal';
import { spawnServed } from './testing/spawn-served.js';

const SAMPLES = 1200;
const PER_REQUEST = 40;

test('a served regression stream answers /predict with values and learns from /feedback targets: absolute error scored, MAE falls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-feedback-'));
  const pipeline = {
    name: 'regression-feedback',
    task: 'regression',
    seed: 5,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'feedback', inputShape: [2], targetCount: 1, buffer: 256, policy: 'block', channel: 'default' },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: { kind: 'naive' },
    training: { batchSize: 8, maxSamples: SAMPLES, logEvery: 5 },
    evaluation: { window: 100 },
    checkpoint: { enabled: false },
    serve: { port: 9, publishEvery: 5, linger: false },
  };
  writeFileSync(join(dir, 'p.json'), JSON.stringify(pipeline));
  const out = join(dir, 'run');
  const server = await spawnServed(['run', join(dir, 'p.json'), '--out', out, '--quiet', '--serve', '127.0.0.1:0']);
  try {
    const rng = new Rng(12);
    const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${server.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const errors: number[] = [];
    for (let k = 0; k < SAMPLES / PER_REQUEST; k++) {
      const instances = Array.from({ length: PER_REQUEST }, () => [rng.next() * 2 - 1, rng.next() * 2 - 1]);
      const targets = instances.map(([a = 0, b = 0]) => 2 * a - b + 0.5);
      let r = await post('/predict', { instances });
      while (r.status === 503) r = await post('/predict', { instances }); // until the first version is published
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const predictions = r.body['predictions'] as { id: string; values: number[] }[];
      assert.ok(predictions.every((p) => p.values.length === 1 && Number.isFinite(p.values[0])));
      if (k === 2) {
        const first = predictions[0]?.id;
        const missing = await post('/feedback', { id: first });
        assert.equal(missing.status, 400, 'neither a target nor a label');
        const classLabel = await post('/feedback', { id: first, y: 1 });
        assert.equal(classLabel.status, 400, 'a class label is no target');
        const two = await post('/feedback', { id: first, target: [1, 2] });
        assert.equal(two.status, 400);
        assert.match(two.body['error'] as string, /\/target: expected 1 value, got 2/);
      }
      for (const [i, p] of predictions.entries()) {
        const target = targets[i] as number;
        const f = await post('/feedback', { id: p.id, target });
        assert.equal(f.status, 202, JSON.stringify(f.body));
        const expected = Math.abs((p.values[0] as number) - Math.fround(target));
        const error = f.body['absoluteError'] as number;
        assert.ok(Math.abs(error - expected) < 1e-9, `${error} vs ${expected}`);
        errors.push(error);
        const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
        assert.ok(Math.abs((f.body['mae'] as number) - mean) < 1e-9, 'mae is the served predictions’ running MAE');
      }
    }
    assert.equal(await server.exited, 0, server.stderr());
    const early = errors.slice(0, 200).reduce((a, b) => a + b, 0) / 200;
    const late = errors.slice(-200).reduce((a, b) => a + b, 0) / 200;
    assert.ok(late < 0.5 * early, `served MAE falls with the feedback: first 200 ${early}, last 200 ${late}`);
    const events = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; mae?: number; windowMae?: number });
    const preq = events.filter((e) => e.type === 'prequential');
    assert.ok(preq.length > 2 && preq.every((e) => typeof e.mae === 'number'));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      status: string;
      prequential: { samples: number; mae: number };
    };
    assert.equal(summary.status, 'completed');
    assert.equal(summary.prequential.samples, SAMPLES);
    assert.ok(summary.prequential.mae > 0);
  } finally {
    server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
