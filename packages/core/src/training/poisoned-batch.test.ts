import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { map } from 'rxjs';
import type { Batch } from '../data/batch.js';
import { runPipeline } from '../engine/engine.js';
import type { EngramEvent } from '../events/engram-event.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { Rng } from '../random/rng.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage, StageRun } from '../plugin-api/stage.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import type { ExperienceContext } from '../plugin-api/contexts.js';
import { OptimizerHandle } from './optimizer-handle.js';
import { StrategyChain } from './strategy-chain.js';
import { NumericalError, Trainer } from './trainer.js';
import { keepMovingStatistics, poisonOf } from './poisoned-batch.js';

await tf.setBackend('cpu');

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-poisoned-'));

let modelId = 0;

/**
 * dense(4→6) → [batch norm →] dense(3): the batch norm's moving statistics move in a training forward pass,
 * and it divides a huge input away, so its loss stays finite while its moving variance overflows.
 */
function model(batchNorm: boolean): LayersEngramModel {
  const id = modelId++;
  const net = tf.sequential({
    layers: [
      tf.layers.dense({ units: 6, inputShape: [4], name: `poison-a${id}` }),
      ...(batchNorm ? [tf.layers.batchNormalization({ name: `poison-bn${id}` })] : []),
      tf.layers.dense({ units: 3, name: `poison-b${id}` }),
    ],
  });
  return new LayersEngramModel(net);
}

const batchOf = (scale: number): Batch => ({
  x: Float32Array.from({ length: 32 }, (_, i) => Math.cos(i) * (i === 5 ? scale : 1)),
  sampleShape: [4],
  y: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
});

const context = (m: LayersEngramModel): ExperienceContext =>
  ({
    model: m,
    experience: { index: 0, classes: [0, 1, 2], train: { batches: () => [] } },
    info: { inputShape: [4], numClasses: 3, experiences: 'endless', scenario: 'test' },
    mode: 'stream',
    batchSize: 8,
    rng: new Rng(1),
    events: { emit: () => undefined },
    step: 0,
    gradientsOf: () => ({}),
    resetOptimizer: () => undefined,
  }) as unknown as ExperienceContext;

/** Every weight of the network (trainable and moving statistics), as raw float32 bits. */
const bits = (m: LayersEngramModel): number[][] =>
  m.network.weights.map((w) => Array.from(new Uint32Array(Float32Array.from(w.read().dataSync()).buffer)));

test('a live trainer skips a batch with a huge value: every weight, batch-norm statistics included, and the optimizer stay bit-identical, and the next batch trains', async () => {
  const m = model(true);
  const optimizer = new OptimizerHandle({ type: 'adam', learningRate: 0.05 } as never, {});
  await optimizer.track(m.trainableVariables());
  const trainer = new Trainer(new StrategyChain([]), optimizer, { skipPoisoned: true });
  await trainer.step(batchOf(1), context(m), 0);
  const weights = bits(m);
  const slots = (await optimizer.current.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
  const tensors = tf.memory().numTensors;
  // 1e30 is finite in float32, so it passes the door's check; its square overflows the batch-norm variance.
  const poisoned = await trainer.step(batchOf(1e30), context(m), 0);
  assert.ok(
    poisoned.poisoned?.endsWith('at experience 0, epoch 0, step 0: batch skipped, weights unchanged'),
    poisoned.poisoned,
  );
  assert.deepEqual(bits(m), weights, 'no weight (batch-norm statistics included) changed');
  const slotsAfter = await optimizer.current.getWeights();
  assert.deepEqual(
    slotsAfter.map((w) => Array.from(w.tensor.dataSync())),
    slots,
    'the optimizer did not step',
  );
  slotsAfter[0]?.tensor.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'the skipped batch released every tensor');
  const next = await trainer.step(batchOf(1), context(m), 0);
  assert.equal(next.poisoned, undefined);
  assert.ok(Number.isFinite(next.loss) && next.loss < 10, `loss ${next.loss}`);
  assert.notDeepEqual(bits(m), weights, 'the next good batch trained');
  optimizer.dispose();
  m.network.dispose();
});

const hugeBatch = (): Batch => ({ ...batchOf(1), x: new Float32Array(32).fill(1e30) });

test('a live trainer skips a batch whose loss is above 1e12 and says so; a finite-run trainer fails loudly on it', async () => {
  const m = model(false);
  const optimizer = new OptimizerHandle({ type: 'adam', learningRate: 0.05 } as never, {});
  await optimizer.track(m.trainableVariables());
  const live = new Trainer(new StrategyChain([]), optimizer, { skipPoisoned: true });
  const skipped = await live.step(hugeBatch(), context(m), 0);
  assert.ok(skipped.loss > 1e12, `loss ${skipped.loss}`);
  assert.match(skipped.poisoned ?? '', /^loss is [0-9.]+e\+\d+ \(limit 1e\+12\) at experience 0/);
  const trainer = new Trainer(new StrategyChain([]), optimizer);
  await assert.rejects(trainer.step(hugeBatch(), context(m), 0), NumericalError);
  optimizer.dispose();
  m.network.dispose();
});

/** A stage before `train` that sets every value of the batch at `step` to 1e30 and records the weights around it. */
class PoisonStage implements Stage {
  readonly name = 'poison';
  before: number[][] | undefined;
  constructor(private readonly step: number) {}
  operator(run: StageRun) {
    return map((item: RunItem) => {
      if (item.kind === 'batch' && run.cursor.step === this.step) {
        item.batch = { ...item.batch, x: new Float32Array(item.batch.x.length).fill(1e30) };
        this.before = bits(run.model());
      }
      return item;
    });
  }
}

/** A stage after `train` that records the weights once the poisoned step's batch went through. */
class WatchStage implements Stage {
  readonly name = 'watch';
  after: number[][] | undefined;
  constructor(private readonly step: number) {}
  operator(run: StageRun) {
    return map((item: RunItem) => {
      if (item.kind === 'batch' && run.cursor.step === this.step + 1 && this.after === undefined)
        this.after = bits(run.model());
      return item;
    });
  }
}

test('a stream run skips a poisoned batch, counts it once in summary.json and events, warns once and runs on to its end', async () => {
  const doc = fixtureDocument({
    data: { kind: 'blobs', classes: 4, features: 8, endless: true },
    training: { batchSize: 8, maxSamples: 400, logEvery: 1 },
    evaluation: { initial: false },
  });
  const poison = new PoisonStage(10);
  const watch = new WatchStage(10);
  const events: EngramEvent[] = [];
  const outcome = await runPipeline(await loadFixture(doc), {
    outDir: out(),
    stages: [
      { stage: poison, path: '/test/poison', before: 'train' },
      { stage: watch, path: '/test/watch', after: 'train' },
    ],
    observe: (events$) => events$.subscribe((e) => events.push(e)),
  });
  assert.equal(outcome.summary.status, 'completed');
  assert.equal(outcome.summary.trainSamples, 400, 'the stream ran to its end');
  assert.equal(outcome.summary.poisonedBatches, 1);
  const skipped = events.filter((e) => e.type === 'poisoned-batch');
  assert.equal(skipped.length, 1);
  assert.equal(events.filter((e) => e.type === 'warning' && e.message.includes('poisoned')).length, 1);
  assert.ok(poison.before && watch.after);
  assert.deepEqual(watch.after, poison.before, 'the poisoned batch changed no weight');
  const losses = events.flatMap((e) => (e.type === 'batch-end' ? [e.loss] : []));
  assert.ok(
    losses.every((l) => Number.isFinite(l) && l < 1e3),
    'no batch-end reports the poisoned loss',
  );
});

test('a finite run with a poisoned batch still fails with a one-line loss error', async () => {
  const doc = fixtureDocument({ data: { kind: 'blobs', classes: 4, experiences: 1, perClass: 40 } });
  const outcome = runPipeline(await loadFixture(doc), {
    outDir: out(),
    stages: [{ stage: new PoisonStage(2), path: '/test/poison', before: 'train' }],
  });
  await assert.rejects(outcome, /loss is .* at experience 0, epoch 0, step 2/);
});

test('the poisoned-batch probe finds a NaN in the last element of one gradient and an Infinity in a moving statistic, and passes clean values', () => {
  const m = model(true);
  tf.dispose(m.network.predict(tf.ones([2, 4]))); // builds the layers
  const grads = (): tf.NamedTensorMap =>
    Object.fromEntries(m.trainableVariables().map((v, i) => [v.name, tf.fill(v.shape, 0.5 + i)]));
  const kept = keepMovingStatistics(m);
  const clean = grads();
  assert.equal(poisonOf(0.5, clean, kept), undefined);
  const withNaN = grads();
  const last = Object.keys(withNaN).at(-1) ?? '';
  const lastGrad = withNaN[last] as tf.Tensor;
  const values = lastGrad.dataSync().slice();
  values[values.length - 1] = Number.NaN;
  withNaN[last] = tf.tensor(values, lastGrad.shape);
  lastGrad.dispose();
  assert.equal(poisonOf(0.5, withNaN, kept), 'a gradient or batch-norm statistic is not finite');
  const statistic = m.network.nonTrainableWeights.find((w) => /moving_variance/.test(w.name));
  assert.ok(statistic);
  statistic.write(tf.fill(statistic.shape as number[], Number.POSITIVE_INFINITY));
  assert.equal(poisonOf(0.5, clean, kept), 'a gradient or batch-norm statistic is not finite');
  kept.restore();
  const again = keepMovingStatistics(m);
  assert.equal(poisonOf(0.5, clean, again), undefined);
  again.dispose();
  tf.dispose([...Object.values(clean), ...Object.values(withNaN)]);
  m.network.dispose();
});
