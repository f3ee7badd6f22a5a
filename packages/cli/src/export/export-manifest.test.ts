import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeStates, type VerifiedCheckpoint } from '@engram/core/internal';
import { exportManifest } from './export-manifest.js';

/** A checkpoint's files as the engine writes them, for a pipeline with normalize, multi-head and hedge. */
function checkpoint(): VerifiedCheckpoint {
  const pipeline = {
    name: 'handoff',
    data: { kind: 'csv', labels: ['red', 'green', 'blue', 'cyan'] },
    preprocess: [{ kind: 'normalize', per: 'feature', epsilon: 1e-6 }],
    adjust: [{ kind: 'multi-head' }],
    strategy: [{ kind: 'hedge' }],
  };
  const states = encodeStates({
    'transform:0': {
      meta: { fitted: true },
      arrays: {
        mean: { dtype: 'float32', shape: [2], data: Float32Array.from([0.5, -1]) },
        std: { dtype: 'float32', shape: [2], data: Float32Array.from([2, 0.25]) },
      },
    },
    'adjust:0': {
      meta: {
        tasks: [
          [0, [0, 1]],
          [1, [2, 3]],
        ],
      },
    },
    'strategy:0:hedge': {
      meta: { heads: 3 },
      arrays: { alpha: { dtype: 'float32', shape: [3], data: Float32Array.from([0.5, 0.25, 0.25]) } },
    },
  });
  const enc = new TextEncoder();
  return {
    dir: 'ck',
    step: 42,
    format: 1,
    files: new Map([
      ['run.json', enc.encode(JSON.stringify({ pipeline }))],
      ['state.json', enc.encode(states.json)],
      ['state.bin', states.bin],
    ]),
  };
}

test('engram.json carries the fitted normalize statistics, the task heads, the Hedge weights and the run metrics', () => {
  const run = mkdtempSync(join(tmpdir(), 'engram-export-'));
  writeFileSync(
    join(run, 'metrics.jsonl'),
    [
      '{"type":"experience-start","seq":0,"time":0,"experience":0,"classes":[0,1]}',
      '{"type":"experience-start","seq":1,"time":1,"experience":1,"classes":[2,3]}',
    ].join('\n'),
  );
  writeFileSync(
    join(run, 'summary.json'),
    JSON.stringify({
      averageAccuracy: 0.9,
      bwt: -0.01,
      fwt: null,
      forgetting: 0.02,
      accuracyMatrix: [[0.9]],
      prequential: null,
      trainSamples: 100,
    }),
  );
  const m = exportManifest(checkpoint(), run, { softmax: true, version: '9.9.9', numOutputs: 4, inputShape: [2] });
  assert.equal(m.output, 'probabilities');
  assert.deepEqual(m.classes, ['red', 'green', 'blue', 'cyan']);
  assert.deepEqual(m.preprocessing, [
    { kind: 'normalize', options: { per: 'feature', epsilon: 1e-6 }, fitted: { mean: [0.5, -1], std: [2, 0.25] } },
  ]);
  assert.deepEqual(m.heads, { 0: [0, 1], 1: [2, 3] });
  assert.deepEqual(m.hedge, { weights: [0.5, 0.25, 0.25] });
  assert.deepEqual(m.experiences, [
    [0, 1],
    [2, 3],
  ]);
  assert.equal(m.metrics?.averageAccuracy, 0.9);
  assert.equal(m.checkpointStep, 42);
});

test('without a run folder the export still describes the model, with no metrics', () => {
  const m = exportManifest(checkpoint(), undefined, { softmax: false, version: '1', numOutputs: 5, inputShape: [2] });
  assert.equal(m.output, 'logits');
  assert.equal(m.metrics, null);
  assert.deepEqual(m.experiences, []);
  assert.equal(m.classes[4], '4', 'classes beyond the named ones are numbered');
});
