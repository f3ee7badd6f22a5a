import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointModelArtifacts, readCheckpoint } from '@engram/core/internal';
import { ModelVersion, plainView } from './model-version.js';
import { postJson, startServedRun, testPipeline } from './testing/served-run.js';

const INSTANCES = [
  [0.5, -1, 2, 0],
  [-3, 1, 0.25, 4],
  [0, 0, 0, 0],
];

test('predictions made while the model trains carry a version whose checkpoint, reloaded, gives exactly those probabilities', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-consistency-'));
  const before = tf.memory().numTensors;
  const doc = testPipeline('serve-consistency', {
    data: { kind: 'synthetic', numClasses: 3, features: 4, samplesPerClass: 400 },
    training: { epochs: 4, batchSize: 8, logEvery: 10 },
    checkpoint: { everyBatches: 4, keep: 10000 },
  });
  const run = await startServedRun(doc, dir, { publishEvery: 4 });
  const seen = new Map<number, number[][]>();
  let done = false;
  void run.outcome.finally(() => (done = true));
  try {
    while (!done) {
      const r = await postJson(`${run.base}/predict`, { instances: INSTANCES });
      if (r.status === 503) continue; // before the first version
      assert.equal(r.status, 200);
      const model = r.body.model as { version: number; step: number };
      const probs = (r.body.predictions as Array<{ probabilities: number[] }>).map((p) => p.probabilities);
      const earlier = seen.get(model.step);
      if (earlier) assert.deepEqual(probs, earlier, `one version, one answer (step ${model.step})`);
      else seen.set(model.step, probs);
    }
    await run.outcome;
    const during = [...seen.keys()].filter((s) => s > 0);
    assert.ok(during.length >= 3, `several versions were served while training: steps ${[...seen.keys()].join(', ')}`);
    for (const step of during) {
      assert.equal(step % 4, 0, `version steps follow publishEvery: ${step}`);
      const cp = join(run.outDir, 'checkpoints', `step-${String(step).padStart(12, '0')}`);
      assert.ok(existsSync(cp), `checkpoint of step ${step} exists`);
      const network = await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(await readCheckpoint(cp))));
      const v = new ModelVersion({ version: 0, step, experience: 0 }, plainView(network));
      const reloaded = v.predict(new Float32Array(INSTANCES.flat()), INSTANCES.length);
      v.dispose();
      const expected = INSTANCES.map((_, i) => Array.from(reloaded.subarray(i * 3, (i + 1) * 3)));
      assert.deepEqual(seen.get(step), expected, `step ${step}: served = reloaded checkpoint`);
    }
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(tf.memory().numTensors, before);
});
