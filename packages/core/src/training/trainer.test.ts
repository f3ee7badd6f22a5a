import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import { Rng } from '../random/rng.js';
import type { ExperienceContext, LossContext, StepContext } from '../plugin-api/contexts.js';
import { OptimizerHandle } from './optimizer-handle.js';
import type { RunAccelerator } from '../backend/run-accelerator.js';
import { QuadraticPenalty } from '../plugin-api/quadratic-penalty.js';
import type { Strategy } from '../plugin-api/strategy.js';
import { StrategyChain } from './strategy-chain.js';
import { Trainer } from './trainer.js';

await tf.setBackend('cpu');

let modelId = 0;

/** A 4-3 softmax layer with fixed weights, a fixed anchor and importance, and a batch of 8. */
function setup() {
  const net = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: `trainer${modelId++}` })] });
  tf.tidy(() =>
    net.setWeights([
      tf.tensor2d(
        Array.from({ length: 12 }, (_, i) => Math.sin(i)),
        [4, 3],
      ),
      tf.zeros([3]),
    ]),
  );
  const model = new LayersEngramModel(net);
  const anchors = model.trainableVariables().map((v) => tf.tidy(() => tf.add(v, 0.5)));
  const importances = model.trainableVariables().map((v, k) => tf.fill(v.shape, k + 1.5));
  const batch: Batch = {
    x: Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)),
    sampleShape: [4],
    y: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
  };
  const terms = () =>
    model
      .trainableVariables()
      .map((param, k) => ({ param, anchor: anchors[k] as tf.Tensor, importance: importances[k] as tf.Tensor }));
  const context = (): ExperienceContext =>
    ({
      model,
      experience: {
        index: 0,
        classes: [0, 1, 2],
        train: {
          batches: () => {
            throw new Error('unused');
          },
        },
      },
      info: { inputShape: [4], numClasses: 3, experiences: 1, scenario: 'test' },
      mode: 'experiences',
      batchSize: 8,
      rng: new Rng(1),
      events: { emit: () => undefined },
      step: 0,
      gradientsOf: () => ({}),
      resetOptimizer: () => undefined,
    }) as unknown as ExperienceContext;
  const dispose = () => {
    tf.dispose([...anchors, ...importances]);
    net.dispose();
  };
  return { model, batch, terms, context, dispose };
}

/** Trains 3 steps with `strategy(terms)`; returns final weights and the step results. */
async function trainWith(
  make: (terms: ReturnType<typeof setup>['terms']) => Strategy,
  accelerator: RunAccelerator = {},
) {
  const s = setup();
  const optimizer = new OptimizerHandle({ type: 'adam', learningRate: 0.05 } as never, accelerator);
  await optimizer.track(s.model.trainableVariables());
  const trainer = new Trainer(new StrategyChain([make(s.terms)]), optimizer);
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await trainer.step(s.batch, s.context(), 0));
  const weights = s.model.trainableVariables().map((v) => Array.from(v.dataSync()));
  optimizer.dispose();
  s.dispose();
  return { weights, results };
}

function close(a: readonly number[][], b: readonly number[][], tolerance: number): boolean {
  return a.every((row, i) => row.every((x, j) => Math.abs(x - (b[i]?.[j] ?? NaN)) <= tolerance));
}

test('a quadratic penalty applied at the optimizer step trains like the same penalty on the tape', async () => {
  // A fused step that declines records what the optimizer step was offered: both variables' terms.
  const offered: number[] = [];
  const declining: RunAccelerator = {
    applyWithPenalties: (_opt, _grads, penalties) => {
      offered.push(penalties.filter((p) => p?.length === 1 && p[0]?.scale === 0.7).length);
      return undefined;
    },
  };
  const deferred = await trainWith(
    (terms) => ({ name: 'deferred', penalty: () => new QuadraticPenalty(terms(), 0.7) }),
    declining,
  );
  assert.deepEqual(offered, [2, 2, 2]);
  const taped = await trainWith((terms) => ({
    name: 'taped',
    penalty: () => new QuadraticPenalty(terms(), 0.7).toScalar(),
  }));
  const none = await trainWith(() => ({ name: 'none' }));
  assert.ok(close(deferred.weights, taped.weights, 1e-6));
  assert.ok(!close(deferred.weights, none.weights, 1e-3), 'the penalty changed training');
  deferred.results.forEach((r, i) => {
    const t = taped.results[i];
    assert.ok(t && r.penalty > 0.5 && Math.abs(r.penalty - t.penalty) < 1e-5, `penalty ${r.penalty} vs ${t?.penalty}`);
    assert.ok(t && Math.abs(r.loss - t.loss) < 1e-5, `loss ${r.loss} vs ${t?.loss}`);
  });
});

test("a strategy reading gradients in afterBackward sees the quadratic penalty's gradient: the penalty stays on the tape", async () => {
  const seen: number[][] = [];
  const reader = (name: string, penalty: (t: LossContext) => tf.Scalar | QuadraticPenalty): Strategy => ({
    name,
    penalty,
    afterBackward: (grads: tf.NamedTensorMap, _ctx: StepContext) => {
      seen.push(Object.values(grads).flatMap((g) => Array.from(g.dataSync())));
      return grads;
    },
  });
  let offered = 0;
  const counting: RunAccelerator = {
    applyWithPenalties: () => {
      offered++;
      return undefined;
    },
  };
  const deferred = await trainWith((t) => reader('deferred', () => new QuadraticPenalty(t(), 0.7)), counting);
  const taped = await trainWith((t) => reader('taped', () => new QuadraticPenalty(t(), 0.7).toScalar()));
  assert.equal(offered, 0, 'nothing was deferred to the optimizer step');
  assert.equal(seen.length, 6);
  assert.ok(close(seen.slice(0, 3), seen.slice(3), 1e-6));
  assert.ok(close(deferred.weights, taped.weights, 1e-6));
});

test('training with a deferred penalty leaves no tensors behind', async () => {
  await trainWith((terms) => ({ name: 'warm-up', penalty: () => new QuadraticPenalty(terms(), 0.7) }));
  const before = tf.memory().numTensors;
  await trainWith((terms) => ({ name: 'deferred', penalty: () => new QuadraticPenalty(terms(), 0.7) }));
  await trainWith((terms) => ({
    name: 'with-reader',
    penalty: () => new QuadraticPenalty(terms(), 0.7),
    afterBackward: (g: tf.NamedTensorMap) => g,
  }));
  assert.equal(tf.memory().numTensors, before);
});
