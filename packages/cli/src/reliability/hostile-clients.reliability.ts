import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServed } from '../serve/testing/spawn-served.js';
import { patience } from '../testing/patience.js';
import { reportCases } from './cases.js';

/** A feedback-learning stream: it trains only on what /feedback sends it, 64 samples, then ends. */
const PIPELINE = {
  name: 'hostile-clients',
  seed: 5,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: { kind: 'feedback', inputShape: [4], numClasses: 3, buffer: 64, policy: 'block', channel: 'default' },
  model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  strategy: { kind: 'naive' },
  training: { batchSize: 8, maxSamples: 64, logEvery: 2 },
  checkpoint: { enabled: false },
  serve: { publishEvery: 2, linger: false },
};

/** Values that must never reach the model: beyond float32's range (or not numbers at all). */
const POISON: unknown[] = [1e39, -1e39, 1e308, -1e308, 3.5e38, -3.41e38, 1e300, '1e39', null, true, {}, [], 'NaN'];

test('every poisoned /predict and /feedback body of a feedback-learning run gets a 4xx and the run completes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-hostile-'));
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(PIPELINE));
  const out = join(dir, 'run');
  const server = await spawnServed(['run', file, '--out', out, '--quiet', '--serve', '127.0.0.1:0'], patience(120_000));
  let cases = 0;
  try {
    const post = async (path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${server.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const good = [0.5, -0.25, 1, 0];
    let first = await post('/predict', JSON.stringify({ instances: [good] }));
    while (first.status === 503) first = await post('/predict', JSON.stringify({ instances: [good] }));
    assert.equal(first.status, 200, JSON.stringify(first.json));
    for (const value of POISON) {
      for (const at of [0, 3]) {
        const row: unknown[] = [...good];
        row[at] = value;
        const r = await post('/predict', JSON.stringify({ instances: [good, row] }));
        cases++;
        assert.equal(r.status, 400, `${JSON.stringify(value)} at ${at}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json['path'], `/instances/1/${at}`, JSON.stringify(value));
      }
    }
    // a 1e400 literal parses as Infinity: refused too (not a JSON number fastify can take)
    const inf = await post('/predict', '{"instances":[[1e400,0,0,0]]}');
    cases++;
    assert.equal(inf.status, 400, JSON.stringify(inf.json));
    const ids: string[] = [];
    for (let i = 0; i < 64; i++) {
      const r = await post('/predict', JSON.stringify({ instances: [[i / 64, 1 - i / 64, (i % 3) - 1, 0.5]] }));
      assert.equal(r.status, 200);
      ids.push((r.json['predictions'] as Array<{ id: string }>)[0]?.id ?? '');
    }
    // poisoned labels and ids: refused, never queued
    for (const y of [1e39, -1, 1.5, 3, 'nope', null, [], {}, Number.MAX_SAFE_INTEGER + 2]) {
      const r = await post('/feedback', JSON.stringify({ id: ids[0], y }));
      cases++;
      assert.ok(r.status === 400 || r.status === 404, `y ${JSON.stringify(y)}: ${r.status}`);
    }
    for (const id of ['', 'x'.repeat(101), 7, null]) {
      const r = await post('/feedback', JSON.stringify({ id, y: 0 }));
      cases++;
      assert.equal(r.status, 400, `id ${JSON.stringify(id)}`);
    }
    // then the real labels: the run trains on them and ends
    for (const [i, id] of ids.entries()) {
      const r = await post('/feedback', JSON.stringify({ id, y: i % 3 }));
      assert.equal(r.status, 202, JSON.stringify(r.json));
    }
    assert.equal(await server.exited, 0, server.stderr());
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { status: string };
    assert.equal(summary.status, 'completed');
    reportCases('hostile-clients', cases);
    t.diagnostic(`cases: ${cases} hostile /predict and /feedback bodies, each refused; the run completed`);
  } finally {
    server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
