import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { LayerSpec } from '../../pipeline/layer.schema.js';
import { Rng } from '../../random/rng.js';
import { onnxFixture } from '../../testing/onnx-fixtures.js';
import { buildModel } from '../model.builder.js';
import { exportOnnx } from './onnx-export.js';
import { importOnnx } from './onnx-import.js';

// Export of the sequence layers (Embedding, EngramGRU, tfjs GRU and LSTM, OnnxTimeStep), with
// onnxruntime-node as the oracle: the exported file must compute what Engram computes.
await tf.setBackend('cpu');

const options = { softmax: false, normalize: [], channelsFirst: false, metadata: {}, producerVersion: 'test' };

/** Largest |Engram − ONNX Runtime| over `rows` random rows (token ids below `vocab`, or normals). */
async function exportDelta(
  model: tf.LayersModel,
  rows: number,
  vocab: number | undefined,
  rng: Rng,
  reimport = false,
): Promise<number> {
  const shape = model.inputs[0]?.shape.slice(1).map((d) => d ?? 1) ?? [];
  const n = rows * shape.reduce((p, q) => p * q, 1);
  const x = Float32Array.from({ length: n }, () => (vocab ? Math.floor(rng.next() * vocab) : rng.normal()));
  const ours = tf.tidy(() =>
    Float32Array.from((model.predict(tf.tensor(x, [rows, ...shape])) as tf.Tensor).dataSync()),
  );
  const bytes = exportOnnx(model, options);
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor('float32', x, [rows, ...shape]) });
  const theirs = Object.values(result)[0]?.data as Float32Array;
  assert.equal(theirs.length, ours.length);
  if (reimport) {
    // The exported file imports again (Cast of the ids, Transpose → GRU/LSTM → Squeeze) to the same function.
    const back = importOnnx(bytes).model;
    const again = tf.tidy(() => (back.predict(tf.tensor(x, [rows, ...shape])) as tf.Tensor).dataSync());
    back.dispose();
    assert.ok(
      again.every((v, i) => Math.abs(v - (ours[i] ?? 0)) <= 1e-6),
      're-imported model differs',
    );
  }
  return ours.reduce((m, v, i) => Math.max(m, Math.abs(v - (theirs[i] ?? 0))), 0);
}

for (const name of ['rnn-gru-ids-op17', 'rnn-gru-seq-op13', 'rnn-lstm-ids-op13', 'rnn-lstm-seq-op17']) {
  test(`import → export of ${name} runs under ONNX Runtime with Engram's logits within 1e-5 and imports back`, async () => {
    const before = tf.memory().numTensors;
    const { model, input } = importOnnx(onnxFixture(name).bytes);
    const delta = await exportDelta(model, 32, input.ids ? 40 : undefined, new Rng(2), true);
    assert.ok(delta <= 1e-5, `max |Δ| ${delta}`);
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}

const GRAPHS: ReadonlyArray<[string, Array<LayerSpec & { name: string; inputs: string[] }>]> = [
  [
    'embedding → gru (resetAfter, every step) → gru (tfjs, hardSigmoid)',
    [
      { name: 'emb', type: 'embedding', inputDim: 30, outputDim: 6, inputs: ['input'] },
      { name: 'g1', type: 'gru', units: 7, resetAfter: true, returnSequences: true, inputs: ['emb'] },
      { name: 'g2', type: 'gru', units: 5, inputs: ['g1'] },
    ],
  ],
  [
    'embedding → lstm (sigmoid, every step) → lstm',
    [
      { name: 'emb', type: 'embedding', inputDim: 30, outputDim: 6, inputs: ['input'] },
      {
        name: 'l1',
        type: 'lstm',
        units: 6,
        recurrentActivation: 'sigmoid',
        returnSequences: true,
        inputs: ['emb'],
      },
      { name: 'l2', type: 'lstm', units: 4, inputs: ['l1'] },
    ],
  ],
];

for (const [what, nodes] of GRAPHS) {
  test(`an Engram-built ${what} exports: ONNX Runtime gives its logits within 1e-5`, async () => {
    const rng = new Rng(6);
    const model = await buildModel({ graph: { nodes } }, { inputShape: [8], outputs: 3, rng, baseDir: '/' });
    // Move the weights off their initial values (biases start at zero), as training would.
    tf.tidy(() => {
      for (const v of model.trainableVariables()) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 5)));
    });
    const delta = await exportDelta(model.network, 16, 30, rng);
    assert.ok(delta <= 1e-5, `max |Δ| ${delta}`);
    model.dispose();
  });
}
