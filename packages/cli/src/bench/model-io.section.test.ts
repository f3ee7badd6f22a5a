import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@engram/core';
import { onnxRoundTrips } from './model-io.bench.js';
import { MODEL_IO_QUICK, modelIoSection } from './model-io.section.js';
import type { RoundLog } from './round-log.js';
import type { BenchRow, JsonObject } from './throughput.section.js';

/** Parameters of the reduced ResNet-18 with `nf` filters as Engram builds it (with BN statistics and the dense-10 head). */
function resnetParameters(nf: number): number {
  const conv = (cin: number, cout: number, k: number): number => cin * cout * k * k + 4 * cout; // + BN γ, β, mean, var
  let total = conv(3, nf, 3);
  let cin = nf;
  for (const [stage, stride] of [1, 2, 2, 2].entries()) {
    const cout = nf * 2 ** stage;
    for (const s of [stride, 1]) {
      total += conv(cin, cout, 3) + conv(cout, cout, 3);
      if (s !== 1 || cin !== cout) total += conv(cin, cout, 1);
      cin = cout;
    }
  }
  return total + cin * 10 + 10;
}

test('an ONNX export and re-import of a small ResNet keeps its logits and times both steps, leaving no tensor', async () => {
  await selectBackend('cpu');
  const before = tf.memory().numTensors;
  const trips = await onnxRoundTrips(4, 2);
  assert.equal(trips.length, 2);
  for (const t of trips) {
    assert.equal(t.parameters, resnetParameters(4));
    assert.ok(t.bytes > 4 * t.parameters, `${t.bytes} bytes for ${t.parameters} float parameters`);
    assert.ok(t.exportSeconds > 0 && Number.isFinite(t.exportSeconds));
    assert.ok(t.importSeconds > 0 && Number.isFinite(t.importSeconds));
    assert.ok(t.maxAbsDifference <= 1e-5, `max |Δ| ${t.maxAbsDifference}`);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('the model I/O section in smoke mode writes finite ONNX and ResNet checkpoint figures, leaving no tensor', async () => {
  await selectBackend('cpu');
  const before = tf.memory().numTensors;
  const json: JsonObject = {};
  const rows: BenchRow[] = [];
  const logs: RoundLog[] = [];
  await modelIoSection(MODEL_IO_QUICK, json, rows, logs);
  for (const key of [
    'onnxExport10mSeconds',
    'onnxImport10mSeconds',
    'resnetCheckpointWriteSeconds',
    'resnetCheckpointReadSeconds',
  ]) {
    const v = json[key];
    assert.ok(typeof v === 'number' && v > 0 && Number.isFinite(v), `${key}: ${JSON.stringify(v)}`);
  }
  assert.equal(json['onnx10mParameters'], resnetParameters(MODEL_IO_QUICK.onnxNf));
  // the checkpoint holds at least the weights (float32) besides Adam's two slots and the replay buffer
  const ckptParameters = json['resnetCheckpointParameters'] as number;
  assert.ok((json['resnetCheckpointBytes'] as number) > 3 * 4 * ckptParameters);
  assert.ok((json['onnxRoundTripMaxAbsDifference'] as number) <= 1e-5);
  assert.equal(rows.length, 4);
  assert.equal(logs.length, 1);
  assert.equal(logs[0]?.counts.rounds, MODEL_IO_QUICK.rounds);
  assert.equal(tf.memory().numTensors, before);
});
