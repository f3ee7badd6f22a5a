import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from '../engine/engine.js';
import type { RunOutcome } from '../engine/run-options.js';
import { Rng } from '../random/rng.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { EngramBatchNormalization } from './batch-normalization.layer.js';
import { buildModel } from './model.builder.js';

await tf.setBackend('cpu');

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-bn-'));

/** A small conv net with batch norm after the convolution and after the dense layer, as the builder makes it. */
async function bnNetwork(seed: number, fused = true): Promise<tf.LayersModel> {
  const model = await buildModel(
    {
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-5 },
        { type: 'flatten' },
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'batchNormalization' },
      ],
    },
    { inputShape: [6, 6, 2], outputs: 3, rng: new Rng(seed), baseDir: '.' },
  );
  model.network.layers.forEach((l) => {
    if (l instanceof EngramBatchNormalization) l.fusedTraining = fused;
  });
  return model.network;
}

const bitsOf = (net: tf.LayersModel): number[][] =>
  net.getWeights().map((w) => Array.from(new Uint32Array(Float32Array.from(w.dataSync()).buffer)));

/**
 * `steps` Adam steps of cross-entropy on fixed random data, through `apply(…, { training: true })`:
 * the losses, and how many tensors the steps after the first left behind.
 */
function train(net: tf.LayersModel, steps: number): { losses: number[]; growth: number } {
  const optimizer = tf.train.adam(0.01);
  const x = tf.randomNormal([16, 6, 6, 2], 0.5, 1, 'float32', 11);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
  const losses: number[] = [];
  let afterFirst = 0;
  for (let i = 0; i < steps; i++) {
    if (i === 1) afterFirst = tf.memory().numTensors;
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, { training: true }) as tf.Tensor),
      true,
    );
    losses.push(loss?.dataSync()[0] ?? Number.NaN);
    loss?.dispose();
  }
  const growth = tf.memory().numTensors - afterFirst;
  optimizer.dispose();
  tf.dispose([x, labels]);
  return { losses, growth };
}

test('the model builder makes batch norm layers that keep tfjs-layers className and config', async () => {
  const net = await bnNetwork(1);
  const bns = net.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  assert.equal(bns.length, 2);
  assert.ok(bns.every((l) => l instanceof EngramBatchNormalization));
  const stock = tf.layers.batchNormalization({ name: bns[0]?.name ?? '', momentum: 0.9, epsilon: 1e-5 });
  assert.deepEqual(bns[0]?.getConfig(), stock.getConfig());
  net.dispose();
});

test('a training pass of a built model runs the fused op and inference runs FusedBatchNorm', async () => {
  const net = await bnNetwork(4);
  const x = tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 5);
  const kernelsOf = async (training: boolean): Promise<string[]> => {
    const info = await tf.profile(() => {
      const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
      return tf.variableGrads(() => tf.sum(net.apply(x, { training }) as tf.Tensor), vars).value;
    });
    return info.kernels.map((k) => k.name);
  };
  const training = await kernelsOf(true);
  const inference = await kernelsOf(false);
  assert.equal(training.filter((n) => n === 'batchNormTraining__op').length, 2);
  assert.ok(!training.includes('FusedBatchNorm'), 'no tfjs-layers batch norm in training');
  assert.equal(inference.filter((n) => n === 'FusedBatchNorm').length, 2);
  assert.ok(!inference.includes('batchNormTraining__op'));
  x.dispose();
  net.dispose();
});

test('a saved model with batch norm loads back as the fused layer with the same weights and inference output', async () => {
  const net = await bnNetwork(2);
  train(net, 2); // moving statistics off their initial values
  let artifacts: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler((a) => {
      artifacts = a;
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  if (!artifacts) throw new Error('nothing saved');
  const topology = JSON.stringify(artifacts.modelTopology);
  assert.equal(topology.match(/"class_name":"BatchNormalization"/g)?.length, 2);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  assert.equal(loaded.layers.filter((l) => l instanceof EngramBatchNormalization).length, 2);
  assert.deepEqual(bitsOf(loaded), bitsOf(net));
  const x = tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 3);
  const [a, b] = [net, loaded].map((m) => tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync())));
  assert.deepEqual(a, b);
  tf.dispose(x);
  net.dispose();
  loaded.dispose();
});

test('two identical training runs with batch norm give the same bits, and the loss goes down', async () => {
  const [first, second] = [await bnNetwork(3), await bnNetwork(3)];
  const { losses, growth } = train(first, 8);
  assert.equal(growth, 0, 'training steps after the first (which makes the Adam slots) leave no tensor behind');
  train(second, 8);
  assert.deepEqual(bitsOf(first), bitsOf(second));
  assert.ok((losses.at(-1) ?? Infinity) < (losses[0] ?? 0) * 0.8, `losses ${losses.join(', ')}`);
  first.dispose();
  second.dispose();
});

/** A pipeline whose model has batch norm after each hidden layer. */
const bnDoc = (): Record<string, unknown> =>
  fixtureDocument({
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'batchNormalization', momentum: 0.9 },
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'batchNormalization', momentum: 0.9 },
      ],
    },
    training: { epochs: 4, batchSize: 16, logEvery: 1 },
    checkpoint: { enabled: true, everyBatches: 4, keep: 2 },
  });

async function runUntil(dir: string, stopAtStep: number | undefined, resume = false): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(bnDoc()), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAtStep !== undefined && e.type === 'batch-end' && e.step >= stopAtStep) controller.abort('SIGTERM');
      }),
  });
}

const newestWeights = (dir: string): string => {
  const root = join(dir, 'checkpoints');
  const newest = readdirSync(root)
    .filter((n) => n.startsWith('step-'))
    .sort()
    .pop();
  return createHash('sha256')
    .update(readFileSync(join(root, newest ?? '', 'model', 'weights.bin')))
    .digest('hex');
};

test('a model with batch norm trains through the engine and resumes after a stop to the same bits', async () => {
  const refDir = out();
  const reference = await runUntil(refDir, undefined);
  const epochLosses = readFileSync(join(refDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; experience?: number; loss?: number })
    .filter((e) => e.type === 'epoch-end' && e.experience === 0)
    .map((e) => e.loss ?? Number.NaN);
  assert.equal(epochLosses.length, 4);
  assert.ok((epochLosses.at(-1) ?? Infinity) < (epochLosses[0] ?? 0), `epoch losses ${epochLosses.join(', ')}`);
  assert.ok((reference.summary.averageAccuracy ?? 0) > 0.4, `blobs are easy; got ${reference.summary.averageAccuracy}`);
  const again = await runUntil(out(), undefined);
  assert.deepEqual(again.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  const dir = out();
  const stopped = await runUntil(dir, 5);
  assert.equal(stopped.stopped, 'SIGTERM');
  const resumed = await runUntil(dir, undefined, true);
  assert.deepEqual(resumed.summary.accuracyMatrix, reference.summary.accuracyMatrix);
  assert.deepEqual(resumed.summary.loss, reference.summary.loss);
  assert.equal(newestWeights(dir), newestWeights(refDir));
});
