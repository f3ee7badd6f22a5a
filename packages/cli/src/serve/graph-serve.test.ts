import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fileModelLoader } from '@engram/core/internal';
import { checkpointDirs } from '../commands/e2e-harness.js';
import { spawnServed } from './testing/spawn-served.js';
import { postJson, startServedRun, testPipeline } from './testing/served-run.js';

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

test("engram run --serve and engram serve answer /predict from a graph model's checkpoint with its own softmax", async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-serve-'));
  try {
    const run = await startServedRun(
      testPipeline('graph-serve', { model: GRAPH, checkpoint: { everyBatches: 12, keep: 10 } }),
      dir,
    );
    let live: Prediction[];
    try {
      await run.outcome;
      await run.served.settled();
      const p = await postJson(`${run.base}/predict`, { instances: INSTANCES });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.deepEqual(p.body['model'], {
        version: (p.body['model'] as { version: number }).version,
        step: 36,
        experience: 1,
      });
      live = answers(p.body);
    } finally {
      await run.close();
    }

    // What the newest checkpoint's graph computes, read directly.
    const newest = checkpointDirs(run.outDir).pop() ?? '';
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

    const served = await spawnServed(['serve', run.outDir, '--port', '0']);
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
