import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.js';
import { GruResetAfter } from './gru-reset-after.layer.js';

await tf.setBackend('cpu');

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** The reset-after GRU written out with scalars (PyTorch's nn.GRU equations), in float64. */
function reference(
  x: Float32Array,
  [batch, steps, features]: [number, number, number],
  units: number,
  [kernel, recurrent, bias]: Float32Array[],
): number[][][] {
  const k = kernel ?? new Float32Array();
  const r = recurrent ?? new Float32Array();
  const b = bias ?? new Float32Array();
  const out: number[][][] = [];
  for (let n = 0; n < batch; n++) {
    let h = new Array<number>(units).fill(0);
    const seq: number[][] = [];
    for (let t = 0; t < steps; t++) {
      const gate = (g: number, j: number, withH: boolean): [number, number] => {
        const col = g * units + j;
        let xi = b[col] ?? 0;
        for (let f = 0; f < features; f++)
          xi += (x[(n * steps + t) * features + f] ?? 0) * (k[f * 3 * units + col] ?? 0);
        let hi = b[3 * units + col] ?? 0;
        if (withH) for (let i = 0; i < units; i++) hi += (h[i] ?? 0) * (r[i * 3 * units + col] ?? 0);
        return [xi, hi];
      };
      h = h.map((hj, j) => {
        const z = sigmoid(gate(0, j, true).reduce((p, q) => p + q));
        const rr = sigmoid(gate(1, j, true).reduce((p, q) => p + q));
        const [xh, hh] = gate(2, j, true);
        return z * hj + (1 - z) * Math.tanh(xh + rr * hh);
      });
      seq.push(h);
    }
    out.push(seq);
  }
  return out;
}

function randomWeights(rng: Rng, features: number, units: number): Float32Array[] {
  const draw = (n: number): Float32Array => Float32Array.from({ length: n }, () => 0.6 * rng.normal());
  return [draw(features * 3 * units), draw(units * 3 * units), draw(6 * units)];
}

function built(
  units: number,
  features: number,
  steps: number,
  weights: Float32Array[],
  sequences = false,
): GruResetAfter {
  const layer = new GruResetAfter({ units, returnSequences: sequences, name: 'g' });
  layer.apply(tf.input({ shape: [steps, features] }));
  tf.tidy(() =>
    layer.setWeights([
      tf.tensor2d(weights[0] ?? [], [features, 3 * units]),
      tf.tensor2d(weights[1] ?? [], [units, 3 * units]),
      tf.tensor2d(weights[2] ?? [], [2, 3 * units]),
    ]),
  );
  return layer;
}

test('the reset-after GRU computes PyTorch’s equations (every step and the last) within 1e-5', () => {
  const rng = new Rng(11);
  const [batch, steps, features, units] = [3, 4, 5, 6];
  const weights = randomWeights(rng, features, units);
  const x = Float32Array.from({ length: batch * steps * features }, () => rng.normal());
  const expected = reference(x, [batch, steps, features], units, weights);
  const before = tf.memory().numTensors;
  for (const sequences of [false, true]) {
    const layer = built(units, features, steps, weights, sequences);
    const y = tf.tidy(() => (layer.apply(tf.tensor3d(x, [batch, steps, features])) as tf.Tensor).arraySync());
    const want = sequences ? expected : expected.map((s) => s[steps - 1]);
    const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
    const got = flat(y);
    const ref = flat(want);
    assert.equal(got.length, ref.length);
    const delta = got.reduce((m, v, i) => Math.max(m, Math.abs(v - (ref[i] ?? 0))), 0);
    assert.ok(delta <= 1e-5, `returnSequences=${sequences}: max |Δ| ${delta}`);
    layer.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'the layer frees what it computes');
});

test('its autodiff gradients (kernel, recurrent kernel, both biases, input) equal central differences', () => {
  const rng = new Rng(5);
  const [batch, steps, features, units] = [2, 3, 2, 2];
  const weights = randomWeights(rng, features, units);
  const layer = built(units, features, steps, weights);
  const x = tf.variable(
    tf.tensor3d(
      Float32Array.from({ length: batch * steps * features }, () => rng.normal()),
      [batch, steps, features],
    ),
  );
  const target = tf.tensor2d(
    Float32Array.from({ length: batch * units }, () => rng.normal()),
    [batch, units],
  );
  const loss = (): tf.Scalar => tf.sum(tf.square(tf.sub(layer.apply(x) as tf.Tensor, target)));
  const vars = [...layer.trainableWeights.map((w) => w.read() as tf.Variable), x];
  const { grads } = tf.variableGrads(loss, vars);
  const eps = 1e-2;
  let worst = 0;
  for (const v of vars) {
    const g = grads[v.name]?.dataSync() ?? new Float32Array();
    const values = v.dataSync().slice();
    for (let i = 0; i < values.length; i++) {
      const at = (d: number): number => {
        const moved = values.slice();
        moved[i] = (moved[i] ?? 0) + d;
        tf.tidy(() => v.assign(tf.tensor(moved, v.shape)));
        return tf.tidy(() => loss().dataSync()[0] ?? 0);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      const err = Math.abs(numeric - (g[i] ?? 0)) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, err);
    }
  }
  assert.ok(worst < 2e-3, `largest relative gradient error ${worst}`);
  assert.equal(vars.length, 4, 'kernel, recurrent kernel, bias [2, 3·units] and the input');
  tf.dispose([...Object.values(grads), x, target]);
  layer.dispose();
});

test('a model with the layer serialises and loads back (class EngramGRU) with the same outputs', async () => {
  const rng = new Rng(8);
  const before = tf.memory().numTensors;
  const input = tf.input({ shape: [4, 3] });
  const layer = new GruResetAfter({ units: 5, name: 'gru', recurrentActivation: 'hardSigmoid' });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  tf.tidy(() =>
    model.setWeights(
      randomWeights(rng, 3, 5).map((w, i) =>
        tf.tensor(
          w,
          [
            [3, 15],
            [5, 15],
            [2, 15],
          ][i] ?? [],
        ),
      ),
    ),
  );
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((a) =>
      Promise.resolve((saved = a) && { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  assert.match(JSON.stringify(saved?.modelTopology), /"class_name":"EngramGRU".*"reset_after":true/);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved ?? {}));
  const x = tf.tensor3d(
    Float32Array.from({ length: 2 * 4 * 3 }, () => rng.normal()),
    [2, 4, 3],
  );
  const [a, b] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
  assert.deepEqual(Array.from(b?.dataSync() ?? []), Array.from(a?.dataSync() ?? []));
  assert.equal((loaded.layers[1] as GruResetAfter).recurrentActivationName, 'hardSigmoid');
  tf.dispose([a, b, x]);
  model.dispose();
  loaded.dispose();
  assert.equal(tf.memory().numTensors, before);
});
