import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from './model.builder.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { Rng } from '../random/rng.js';

await tf.setBackend('cpu');

test('a layer whose shape does not fit the data is reported at its index', async () => {
  await assert.rejects(
    buildModel(
      {
        layers: [
          { type: 'dense', units: 4 },
          { type: 'conv2d', filters: 2, kernelSize: 3 },
        ],
      },
      { inputShape: [8], outputs: 3, rng: new Rng(1), baseDir: '/tmp' },
    ),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.problems[0]?.path === '/model/layers/1' &&
      /conv2d does not fit its input \[4\]/.test(e.problems[0].message),
  );
});

test('a conv stack that does not end flat asks for a flatten layer', async () => {
  await assert.rejects(
    buildModel(
      { layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }] },
      { inputShape: [8, 8, 1], outputs: 3, rng: new Rng(1), baseDir: '/tmp' },
    ),
    (e: unknown) =>
      e instanceof PipelineError && e.problems[0]?.path === '/model/layers' && /flatten/.test(e.problems[0].message),
  );
});

test('the same seed builds the same initial weights', async () => {
  const spec = { layers: [{ type: 'dense' as const, units: 5, activation: 'relu' as const }] };
  const a = await buildModel(spec, { inputShape: [3], outputs: 2, rng: new Rng(9), baseDir: '/tmp' });
  const b = await buildModel(spec, { inputShape: [3], outputs: 2, rng: new Rng(9), baseDir: '/tmp' });
  const wa = a.network.getWeights().map((w) => Array.from(w.dataSync()));
  const wb = b.network.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(wa, wb);
  assert.equal(a.outputs(), 2);
  a.dispose();
  b.dispose();
});
