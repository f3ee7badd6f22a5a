import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fileModelLoader } from '@engram/core/internal';
import { checkpointDirs } from '../commands/e2e-harness.js';
import { spawnServed } from './testing/spawn-served.js';
import { postJson, testPipeline } from './testing/served-run.js';
import { patience } from '../testing/patience.js';

/** A residual `add` and a `concatenate` over 4 features (the serving tests' synthetic data). */
const GRAPH = {
  graph: {
    nodes: [
      { name: 'd1', type: 'dense', units: 8, activation: 'relu', inputs: ['input'] },
      { name: 'd2', type: 'dense', units: 8, inputs: ['d1'] },
      { name: 'sum', type: 'add', inputs: ['d2', 'd1'] },
      { name: 'side', type: 'dense', units: 3, activation: 'tanh', inputs: ['input'] },
      { name: 'cat', type: 'concatenate', inputs: ['sum', 'side'] },
    ],
  },
};

const INSTANCES = [
  [0, 0, 0, 0],
  [1, 2, 3, 4],
  [-1, 0, 0.5, 2],
];

type Prediction = { label: number; probabilities: number[] };

const answers = (body: Record<string, unknown>): Prediction[] =>
  (body['predictions'] as Prediction[]).map(({ label, probabilities }) => ({ label, probabilities }));

async function readyStep(base: string): Promise<number> {
  const r = (await (await fetch(`${base}/readyz`)).json()) as { model?: { step: number } };
  return r.model?.step ?? -1;
}

test("engram run --serve and engram serve answer /predict from a graph model's checkpoint with its own softmax", async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-serve-'));
  try {
    const file = join(dir, 'pipeline.json');
    const doc = testPipeline('graph-serve', {
      model: GRAPH,
      checkpoint: { everyBatches: 12, keep: 10 },
      serve: { linger: true },
    });
    writeFileSync(file, JSON.stringify(doc));
    const out = join(dir, 'run');
    // The run's last step is 36 (2 experiences, 192 + 96 samples, batch 16, 2 epochs); it lingers there.
    const running = await spawnServed(
      ['run', file, '--out', out, '--quiet', '--serve', '127.0.0.1:0'],
      patience(60_000),
    );
    let live: Prediction[];
    try {
      const deadline = Date.now() + patience(120_000);
      while ((await readyStep(running.base)) !== 36 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      const p = await postJson(`${running.base}/predict`, { instances: INSTANCES });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal((p.body['model'] as { step: number }).step, 36, running.stderr());
      live = answers(p.body);
    } finally {
      running.child.kill('SIGTERM');
      assert.equal(await running.exited, 0, running.stderr());
    }

    // What the newest checkpoint's graph computes, read directly.
    const newest = checkpointDirs(out).pop() ?? '';
    const model = await tf.loadLayersModel(fileModelLoader(join(newest, 'model', 'model.json')));
    assert.ok(
      model.layers.some((l) => l.getClassName() === 'Add') &&
        model.layers.some((l) => l.getClassName() === 'Concatenate'),
      'the checkpoint holds the graph',
    );
    const expected = tf.tidy(() => tf.softmax(model.predict(tf.tensor2d(INSTANCES)) as tf.Tensor2D).arraySync());
    model.dispose();
    live.forEach((x, i) => {
      assert.equal(x.probabilities.length, 3);
      const want = expected[i] ?? [];
      x.probabilities.forEach((v, c) => assert.ok(Math.abs(v - (want[c] ?? 0)) < 1e-6, `row ${i} class ${c}`));
      assert.equal(x.label, want.indexOf(Math.max(...want)));
    });
    assert.ok(new Set(live.map((x) => x.label)).size > 1, 'not one constant answer');

    const served = await spawnServed(['serve', out, '--port', '0'], patience(60_000));
    try {
      const p = await postJson(`${served.base}/predict`, { instances: INSTANCES });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.deepEqual(answers(p.body), live, 'engram serve answers as the run did');
    } finally {
      served.child.kill('SIGTERM');
      assert.equal(await served.exited, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
