import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { AdjustContext, Adjustment } from '../plugin-api/adjustment.js';
import { buildModel } from './model.builder.js';
import { disposeReplacedModel, LayersEngramModel, type EngramModel } from '../plugin-api/engram-model.js';
import { WidenLayerAdjustment } from './widen-layer.adjustment.js';
import { InsertLayerAdjustment } from './insert-layer.adjustment.js';
import { SetActivationAdjustment } from './set-activation.adjustment.js';
import { ReinitLayersAdjustment } from './reinit-layers.adjustment.js';
import type { LayerSpec } from '../pipeline/layer.schema.js';
import type { EngramEventInput } from '../events/engram-event.js';
import { Rng } from '../random/rng.js';
import { ArrayBatchSource } from '../data/batch-source.js';
import { OptimizerHandle } from '../training/optimizer-handle.js';

await tf.setBackend('cpu');

function ctx(index: number, inputShape: number[] = [6]): AdjustContext {
  const train = new ArrayBatchSource({
    x: new Float32Array(inputShape.reduce((a, b) => a * b, 1)),
    y: new Int32Array([0]),
    sampleShape: inputShape,
  });
  return {
    experience: { index, classes: [0], train },
    info: { inputShape, numClasses: 3, experiences: 3, scenario: 'class-incremental' },
    seenClasses: [0],
    rng: new Rng(11),
  };
}

/** Applies `a` as the adjust stage does (replaced layers disposed). */
async function adjust(model: EngramModel, a: Adjustment, index = 1, inputShape?: number[]): Promise<EngramModel> {
  const next = await a.apply(model, ctx(index, inputShape));
  if (!next || next === model) return model;
  disposeReplacedModel(model, next);
  return next;
}

const mlp: LayerSpec[] = [
  { type: 'dense', units: 5, activation: 'relu', name: 'h1' },
  { type: 'dense', units: 4, activation: 'tanh', name: 'h2' },
];
const cnn: LayerSpec[] = [
  { type: 'conv2d', filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' },
  { type: 'batchNormalization', name: 'bn' },
  { type: 'maxPooling2d', poolSize: 2, name: 'pool' },
  { type: 'conv2d', filters: 2, kernelSize: 2, activation: 'relu', name: 'c2' },
  { type: 'flatten', name: 'flat' },
];

const build = (layers: LayerSpec[], inputShape: number[]): Promise<EngramModel> =>
  buildModel({ layers }, { inputShape, outputs: 3, rng: new Rng(1), baseDir: '.' });

/** Logits of `model` on `x`, on the host. */
const logits = (model: EngramModel, x: tf.Tensor): Float32Array =>
  tf.tidy(() => model.forward(x, { training: false }).dataSync() as Float32Array);

const messages = (events: EngramEventInput[]): string =>
  events.map((e) => (e.type === 'warning' ? e.message : e.type)).join('\n');

function close(a: Float32Array, b: Float32Array, tolerance: number): number {
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (b[i] ?? NaN)))));
  assert.ok(worst <= tolerance, `max |Δ| ${worst} > ${tolerance}`);
  return worst;
}

test('widen-layer gives dense layers more units and leaves the outputs unchanged within 1e-5, with and without noise', async () => {
  const start = tf.memory().numTensors;
  for (const noise of [0, 0.01]) {
    const model = await build(mlp, [6]);
    const x = tf.randomNormal([16, 6], 0, 2, 'float32', 3);
    const before = logits(model, x);
    const widened = await adjust(
      model,
      new WidenLayerAdjustment({ layers: ['h1', 'h2'], units: 9, noise, fromExperience: 1 }),
    );
    assert.notEqual(widened, model);
    const shapes = widened.trainableVariables().map((v) => v.shape.join('x'));
    assert.deepEqual(shapes, ['6x9', '9', '9x9', '9', '9x3', '3']);
    close(before, logits(widened, x), 1e-5);
    assert.deepEqual(
      widened.network.layers.slice(1).map((l) => l.name),
      ['h1', 'h2', 'head'],
    );
    x.dispose();
    widened.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
});

test('widen-layer carries a conv2d widening through batch norm, pooling and flatten to the next layers, function unchanged', async () => {
  const start = tf.memory().numTensors;
  const model = await build(cnn, [8, 8, 2]);
  // Non-trivial batch-norm statistics, so copying them matters.
  const bn = model.network.getLayer('bn');
  tf.tidy(() => bn.setWeights(bn.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, 'float32', i))));
  const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 4);
  const before = logits(model, x);
  const widened = await adjust(
    model,
    new WidenLayerAdjustment({ layers: ['c1', 'c2'], units: 5, noise: 0.05, fromExperience: 0 }),
    0,
    [8, 8, 2],
  );
  close(before, logits(widened, x), 1e-5);
  assert.deepEqual(widened.network.getLayer('c2').getWeights()[0]?.shape, [2, 2, 5, 5]);
  assert.deepEqual(widened.network.getLayer('head').getWeights()[0]?.shape, [2 * 2 * 5, 3]);
  x.dispose();
  widened.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('widen-layer copies units chosen by the seeded generator, refuses to narrow and cannot widen the head', async () => {
  const a = await build(mlp, [6]);
  const b = await build(mlp, [6]);
  const wa = await adjust(a, new WidenLayerAdjustment({ layers: ['h1'], units: 8, noise: 0, fromExperience: 1 }));
  const wb = await adjust(b, new WidenLayerAdjustment({ layers: ['h1'], units: 8, noise: 0, fromExperience: 1 }));
  assert.deepEqual(
    Array.from(wa.network.getLayer('h2').getWeights()[0]?.dataSync() ?? []),
    Array.from(wb.network.getLayer('h2').getWeights()[0]?.dataSync() ?? []),
  );
  assert.throws(
    () => new WidenLayerAdjustment({ layers: ['h1'], units: 3, noise: 0, fromExperience: 0 }).apply(wa, ctx(0)),
    /has 8 units; it cannot be narrowed to 3/,
  );
  assert.throws(
    () => new WidenLayerAdjustment({ layers: ['head'], units: 9, noise: 0, fromExperience: 0 }).apply(wa, ctx(0)),
    /output layer.*grow-head/,
  );
  assert.throws(
    () => new WidenLayerAdjustment({ layers: ['nope'], units: 9, noise: 0, fromExperience: 0 }).apply(wa, ctx(0)),
    /no layer named "nope" \(layers: h1, h2, head\)/,
  );
  assert.equal(
    new WidenLayerAdjustment({ layers: ['h1'], units: 8, noise: 0, fromExperience: 2 }).apply(wa, ctx(1)),
    undefined,
    'nothing before fromExperience',
  );
  wa.dispose();
  wb.dispose();
});

test('surgery keeps the optimizer slots of every variable that kept its name and shape', async () => {
  const model = await build(mlp, [6]);
  const handle = new OptimizerHandle({ type: 'adam', learningRate: 0.01 });
  const x = tf.randomNormal([8, 6], 0, 1, 'float32', 9);
  const step = async (m: EngramModel): Promise<void> => {
    const vars = m.trainableVariables();
    await handle.track(vars);
    const { grads, value } = tf.variableGrads(
      () => tf.mean<tf.Scalar>(tf.square(m.forward(x, { training: true }))),
      vars,
    );
    handle.apply(grads, vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  await step(model);
  const slots = async (): Promise<Map<string, Float32Array>> => {
    const named = await handle.current.getWeights();
    named[0]?.tensor.dispose(); // the fresh iterations scalar
    return new Map(named.slice(1).map((w) => [w.name, Float32Array.from(w.tensor.dataSync() as Float32Array)]));
  };
  const before = await slots();
  const headKernel = model.network.getLayer('head').getWeights()[0] as tf.Variable;
  const h1Kernel = model.network.getLayer('h1').getWeights()[0] as tf.Variable;
  const widened = await adjust(
    model,
    new WidenLayerAdjustment({ layers: ['h2'], units: 6, noise: 0, fromExperience: 1 }),
  );
  await handle.track(widened.trainableVariables());
  const after = await slots();
  for (const v of [h1Kernel.name]) {
    assert.deepEqual(after.get(`${v}/m`), before.get(`${v}/m`), `${v} keeps its first moment`);
    assert.deepEqual(after.get(`${v}/v`), before.get(`${v}/v`));
  }
  assert.ok(!after.has(`${headKernel.name}/m`), 'the rebuilt head (rows split) has new variables');
  const fresh = widened.network.getLayer('h2').getWeights()[0] as tf.Variable;
  assert.ok(
    [...(after.get(`${fresh.name}/m`) ?? [1])].every((v) => v === 0),
    'the widened layer starts with fresh slots',
  );
  await step(widened);
  x.dispose();
  handle.dispose();
  widened.dispose();
});

test('insert-layer adds a dense identity layer after a relu layer without changing the outputs', async () => {
  const start = tf.memory().numTensors;
  const warnings: EngramEventInput[] = [];
  const events = { emit: (e: EngramEventInput) => void warnings.push(e) };
  const model = await build(mlp, [6]);
  const x = tf.randomNormal([16, 6], 0, 2, 'float32', 3);
  const before = logits(model, x);
  const deeper = await adjust(
    model,
    new InsertLayerAdjustment(
      { after: 'h1', activation: 'relu', kernelSize: 3, init: 'identity', fromExperience: 1 },
      events,
    ),
  );
  assert.deepEqual(
    deeper.network.layers.slice(1).map((l) => l.name),
    ['h1', 'h1_deeper', 'h2', 'head'],
  );
  close(before, logits(deeper, x), 1e-5);
  assert.equal(warnings.length, 0);
  // After a tanh layer relu cannot be the identity: the function changes and the log says so.
  const deeper2 = await adjust(
    deeper,
    new InsertLayerAdjustment(
      { after: 'h2', name: 'after_tanh', activation: 'relu', kernelSize: 3, init: 'identity', fromExperience: 1 },
      events,
    ),
  );
  assert.match(messages(warnings), /"after_tanh" \(relu\) after "h2" cannot start as the identity/);
  const linear = await adjust(
    deeper2,
    new InsertLayerAdjustment(
      { after: 'h2', name: 'lin', activation: 'linear', kernelSize: 3, init: 'identity', fromExperience: 1 },
      events,
    ),
  );
  assert.equal(warnings.length, 1, 'linear is the identity anywhere');
  x.dispose();
  linear.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('insert-layer adds an identity conv2d layer to an image model without changing the outputs', async () => {
  const model = await build(cnn, [8, 8, 2]);
  const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 4);
  const before = logits(model, x);
  const deeper = await adjust(
    model,
    new InsertLayerAdjustment({
      after: 'pool',
      activation: 'relu',
      kernelSize: 3,
      init: 'identity',
      fromExperience: 0,
    }),
    0,
    [8, 8, 2],
  );
  assert.equal(deeper.network.getLayer('pool_deeper').getClassName(), 'Conv2D');
  close(before, logits(deeper, x), 1e-5);
  x.dispose();
  deeper.dispose();
});

test('set-activation swaps the activation in place, keeps the variables and warns that the function changed', async () => {
  const warnings: EngramEventInput[] = [];
  const model = await build(mlp, [6]);
  const vars = model.trainableVariables();
  const x = tf.randomNormal([8, 6], 0, 2, 'float32', 3);
  const before = logits(model, x);
  const result = new SetActivationAdjustment(
    { layers: ['h1'], activation: 'gelu', fromExperience: 1 },
    { emit: (e) => void warnings.push(e) },
  ).apply(model, ctx(1));
  assert.equal(result, undefined);
  assert.deepEqual(model.trainableVariables(), vars);
  assert.ok(Math.abs((logits(model, x)[0] ?? 0) - (before[0] ?? 0)) > 1e-6, 'the function changed');
  assert.equal(model.network.getLayer('h1').getConfig()['activation'], 'gelu');
  assert.match(messages(warnings), /"h1" relu → gelu at experience 1; the model's function changes/);
  // The saved topology carries the new activation.
  let saved: tf.io.ModelArtifacts | undefined;
  await model.network.save(
    tf.io.withSaveHandler(
      async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  const reloaded = new LayersEngramModel(await tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts)));
  close(logits(model, x), logits(reloaded, x), 0);
  x.dispose();
  reloaded.dispose();
  model.dispose();
});

test('reinit-layers re-draws the named layers from the seeded generator and leaves the others alone', async () => {
  const a = await build(mlp, [6]);
  const h2Before = Array.from(a.network.getLayer('h2').getWeights()[0]?.dataSync() ?? []);
  const h1Before = Array.from(a.network.getLayer('h1').getWeights()[0]?.dataSync() ?? []);
  const ra = await adjust(a, new ReinitLayersAdjustment({ layers: ['h1'], fromExperience: 1 }));
  const rb = await adjust(await build(mlp, [6]), new ReinitLayersAdjustment({ layers: ['h1'], fromExperience: 1 }));
  const h1After = Array.from(ra.network.getLayer('h1').getWeights()[0]?.dataSync() ?? []);
  assert.notDeepEqual(h1After, h1Before);
  assert.deepEqual(
    h1After,
    Array.from(rb.network.getLayer('h1').getWeights()[0]?.dataSync() ?? []),
    'same seed, same weights',
  );
  assert.deepEqual(Array.from(ra.network.getLayer('h2').getWeights()[0]?.dataSync() ?? []), h2Before);
  ra.dispose();
  rb.dispose();
});

test('a loaded Keras-style sequential model can be widened and trained', async () => {
  const keras = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [6], units: 4, activation: 'relu' }), tf.layers.dense({ units: 3 })],
  });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await keras.save(
    tf.io.withSaveHandler(
      async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  const hidden = keras.layers[0]?.name ?? '';
  keras.dispose();
  const start = tf.memory().numTensors;
  const model = new LayersEngramModel(await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts)));
  const x = tf.randomNormal([32, 6], 0, 1, 'float32', 5);
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        [...Array(32).keys()].map((i) => i % 3),
        'int32',
      ),
      3,
    ),
  );
  const before = logits(model, x);
  const widened = await adjust(
    model,
    new WidenLayerAdjustment({ layers: [hidden], units: 10, noise: 0.01, fromExperience: 0 }),
    0,
  );
  close(before, logits(widened, x), 1e-5);
  const handle = new OptimizerHandle({ type: 'adam', learningRate: 0.05 });
  const loss = (): tf.Scalar =>
    tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, widened.forward(x, { training: true }));
  const first = tf.tidy(() => loss().dataSync()[0] ?? NaN);
  for (let i = 0; i < 30; i++) {
    const vars = widened.trainableVariables();
    await handle.track(vars);
    const { grads, value } = tf.variableGrads(loss, vars);
    handle.apply(grads, vars);
    tf.dispose([value, ...Object.values(grads)]);
  }
  const last = tf.tidy(() => loss().dataSync()[0] ?? NaN);
  assert.ok(last < first * 0.9, `loss ${first} → ${last}`);
  tf.dispose([x, y]);
  handle.dispose();
  widened.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('each surgery operates once and remembers it through state()/restore()', async () => {
  const model = await build(mlp, [6]);
  const widen = new WidenLayerAdjustment({ layers: ['h1'], units: 7, noise: 0, fromExperience: 1 });
  const widened = await adjust(model, widen, 1);
  const again = new WidenLayerAdjustment({ layers: ['h1'], units: 8, noise: 0, fromExperience: 1 });
  again.restore(widen.state());
  assert.equal(again.apply(widened, ctx(2)), undefined, 'restored as applied: no second widening');
  assert.equal(widen.apply(widened, ctx(2)), undefined);
  widened.dispose();
});
