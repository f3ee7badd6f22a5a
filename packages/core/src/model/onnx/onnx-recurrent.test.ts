import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { PipelineError } from '../../plugin-api/pipeline-error.js';
import { Rng } from '../../random/rng.js';
import { onnxFixture } from '../../testing/onnx-fixtures.js';
import { buildModel } from '../model.builder.js';
import { importOnnx } from './onnx-import.js';
import { decodeModel, encodeModel, type AttributeProto } from './onnx-proto.js';

// GRU and LSTM as torch.onnx.export writes nn.GRU / nn.LSTM (batch_first=True, one forward layer), over
// token ids (embedding → rnn → Y_h → linear) and float sequences (rnn → Y[:, -1] → linear), at opsets 13
// and 17. Oracles: PyTorch's logits (committed) and onnxruntime-node on fresh random inputs.
await tf.setBackend('cpu');

const FIXTURES = [
  'gru', // opset 14, the first GRU fixture
  ...['gru', 'lstm'].flatMap((cell) =>
    ['ids', 'seq'].flatMap((kind) => [13, 17].map((opset) => `rnn-${cell}-${kind}-op${opset}`)),
  ),
  'rnn-gru-flat-op17',
  'rnn-gru2-ids-op17', // num_layers=2: Slices of the zero state, Concat of the final states
  'rnn-lstm2-ids-op17',
];

const maxDelta = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return d;
};

/** 64 random rows for fixture `name`: token ids in [0, 40) or standard normal floats. */
function randomRows(name: string, shape: number[], rng: Rng): { values: Float32Array; ids: boolean } {
  const ids = name.includes('-ids-') || name === 'gru';
  const vocab = name === 'gru' ? 50 : 40;
  const n = 64 * shape.reduce((p, q) => p * q, 1);
  const values = Float32Array.from({ length: n }, () => (ids ? Math.floor(rng.next() * vocab) : rng.normal()));
  return { values, ids };
}

for (const name of FIXTURES) {
  test(`the imported ${name} gives PyTorch's logits and ONNX Runtime's on random inputs within 1e-5`, async () => {
    const f = onnxFixture(name);
    const before = tf.memory().numTensors;
    const { model, input } = importOnnx(f.bytes);
    const predict = (rows: Float32Array, n: number): Float32Array =>
      tf.tidy(() => (model.predict(tf.tensor(rows, [n, ...input.shape])) as tf.Tensor).dataSync() as Float32Array);
    const torchDelta = maxDelta(predict(f.inputs, f.rows), f.logits);
    assert.ok(torchDelta <= 1e-5, `PyTorch: max |Δ| ${torchDelta}`);

    const { values, ids } = randomRows(name, input.shape, new Rng(name.length));
    assert.equal(ids, input.ids, 'token-id inputs are recognised from the ONNX element type');
    const session = await ort.InferenceSession.create(f.bytes);
    const feed = ids
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from(values, (v) => BigInt(v)),
          [64, ...input.shape],
        )
      : new ort.Tensor('float32', values, [64, ...input.shape]);
    const result = await session.run({ input: feed });
    const reference = Float32Array.from(Object.values(result)[0]?.data as Float32Array);
    const ortDelta = maxDelta(predict(values, 64), reference);
    assert.ok(ortDelta <= 1e-5, `ONNX Runtime: max |Δ| ${ortDelta}`);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, 'import and prediction free their tensors');
  });
}

test('the GRU imports as the reset-after EngramGRU layer, the LSTM as tfjs LSTM (stacked too), ids through an Embedding', () => {
  const classes = (name: string): string[] => {
    const { model } = importOnnx(onnxFixture(name).bytes);
    const out = model.layers.map((l) => l.getClassName());
    model.dispose();
    return out;
  };
  assert.deepEqual(classes('rnn-gru-ids-op17'), ['InputLayer', 'Embedding', 'EngramGRU', 'Dense']);
  assert.deepEqual(classes('rnn-lstm-seq-op13'), ['InputLayer', 'LSTM', 'OnnxTimeStep', 'Dense']);
  assert.deepEqual(classes('rnn-lstm2-ids-op17'), ['InputLayer', 'Embedding', 'LSTM', 'LSTM', 'Dense']);
});

test('imported GRU and LSTM token models train: the loss on a keyword task falls by more than half in 15 Adam steps', async (t) => {
  for (const name of ['rnn-gru-ids-op13', 'rnn-lstm-ids-op17']) {
    const rng = new Rng(3);
    const before = tf.memory().numTensors;
    const model = await buildModel(
      { load: onnxFixture(name).file },
      { inputShape: [9], outputs: 4, rng, baseDir: '/' },
    );
    const n = 64;
    const ids: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const seq = Array.from({ length: 9 }, () => 4 + Math.floor(rng.next() * 36));
      seq[Math.floor(rng.next() * 9)] = i % 4; // the class's keyword id somewhere in the sequence
      ids.push(...seq);
      labels.push(i % 4);
    }
    const x = tf.tensor2d(ids, [n, 9]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 4));
    const optimizer = tf.train.adam(0.03);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(y, model.forward(x, { training: true }));
    const first = tf.tidy(() => loss().dataSync()[0] ?? 0);
    for (let step = 0; step < 15; step++)
      tf.tidy(() => {
        optimizer.minimize(loss, false, model.trainableVariables());
      });
    const last = tf.tidy(() => loss().dataSync()[0] ?? 0);
    assert.ok(last < first / 2, `${name}: loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    t.diagnostic(`${name}: loss ${first.toFixed(3)} → ${last.toFixed(3)} in 15 Adam steps`);
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, `${name} frees its tensors`);
  }
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Fixture `name` with the recurrent node's attribute set (added or replaced), written to a temp file. */
function withAttribute(name: string, attr: AttributeProto): string {
  const proto = decodeModel(onnxFixture(name).bytes);
  const node = proto.graph?.node?.find((n) => n.opType === 'GRU' || n.opType === 'LSTM');
  assert.ok(node);
  node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== attr.name), attr];
  const dir = mkdtempSync(join(tmpdir(), 'engram-onnx-rnn-'));
  const file = join(dir, 'model.onnx');
  writeFileSync(file, encodeModel(proto));
  return file;
}

const REFUSALS: ReadonlyArray<[string, string, AttributeProto, RegExp]> = [
  [
    'bidirectional',
    'rnn-gru-ids-op13',
    { name: 'direction', type: 3, s: text('bidirectional') },
    /direction=bidirectional/,
  ],
  ['clip', 'rnn-lstm-ids-op13', { name: 'clip', type: 1, f: 3 }, /clip is not supported/],
  [
    'non-default activations',
    'rnn-gru-seq-op17',
    { name: 'activations', type: 8, strings: [text('Relu'), text('Tanh')] },
    /activations \[Relu, Tanh\]/,
  ],
  ['layout=1', 'rnn-lstm-seq-op17', { name: 'layout', type: 2, i: 1 }, /layout=1/],
];

for (const [what, fixture, attr, reason] of REFUSALS) {
  test(`a recurrent node with ${what} is refused at /model/load naming the node`, async () => {
    const file = withAttribute(fixture, attr);
    const op = fixture.includes('gru') ? 'GRU' : 'LSTM';
    const start = tf.memory().numTensors;
    const shape = fixture.includes('-ids-') ? [9] : [7, 5];
    await assert.rejects(
      buildModel({ load: file }, { inputShape: shape, outputs: 4, rng: new Rng(1), baseDir: '/' }),
      (e: unknown) =>
        e instanceof PipelineError &&
        e.problems[0]?.path === '/model/load' &&
        e.problems[0].message.includes(`node "/rnn/${op}" (${op})`) &&
        reason.test(e.problems[0].message) &&
        !e.problems[0].message.includes('\n'),
    );
    assert.equal(tf.memory().numTensors, start, 'a refused import leaves no tensor behind');
  });
}
