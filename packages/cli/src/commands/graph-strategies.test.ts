import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runPipeline, type RunOutcome } from '@engram/core';
import { loadPipelineFile } from '../cli-context.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';
import { deterministicSummary, finalDigest } from './e2e-harness.js';

// The strategies without a graph-model test elsewhere (replay, EWC and DER++ have theirs in
// graph-models / graph-resume / examples), each on a `model.graph` with a residual `add`, batch norm
// and a `concatenate`, for two small experiences of synthetic data.

/** A residual block with batch norm and a concatenated side branch over flat features. */
const GRAPH = {
  graph: {
    nodes: [
      { name: 'd1', type: 'dense', units: 16, activation: 'relu', inputs: ['input'] },
      { name: 'd2', type: 'dense', units: 16, inputs: ['d1'] },
      { name: 'bn', type: 'batchNormalization', inputs: ['d2'] },
      { name: 'sum', type: 'add', inputs: ['bn', 'd1'] },
      { name: 'relu', type: 'activation', activation: 'relu', inputs: ['sum'] },
      { name: 'side', type: 'dense', units: 4, activation: 'tanh', inputs: ['input'] },
      { name: 'cat', type: 'concatenate', inputs: ['relu', 'side'] },
    ],
  },
};

/** Class-incremental: classes {0, 1} then {2, 3}. Domain-incremental: all 4 classes, features permuted in the second. */
const SCENARIOS = {
  class: { type: 'class-incremental', classesPerExperience: 2 },
  domain: { type: 'domain-incremental', transform: 'permutation', experiences: 2 },
} as const;
type Scenario = keyof typeof SCENARIOS;

/** Adam, or plain SGD for A-GEM: its projection is of the SGD step; Adam rescales each coordinate after it. */
const OPTIMIZERS = {
  adam: { type: 'adam', learningRate: 0.02 },
  sgd: { type: 'sgd', learningRate: 0.1 },
} as const;
type Optimizer = keyof typeof OPTIMIZERS;

interface Case {
  readonly strategy: Record<string, unknown>;
  readonly scenario: Scenario;
  readonly optimizer: Optimizer;
  /** Steps from which the resume test stops the run (twice), each inside an experience. */
  readonly stops: readonly [number, number];
}

/**
 * Each strategy, in the scenario where it promises to keep the first experience better than naive
 * fine-tuning: the replay-based ones class-incrementally, the regularisers (at a strong strength) and
 * A-GEM domain-incrementally, where the same outputs must keep serving the first inputs. (On a stack, and
 * on this graph with or without its batch norm, A-GEM under Adam keeps little more than naive does.)
 * Class-IL: 50 steps per experience; domain-IL: 95.
 */
const CASES: readonly Case[] = [
  { strategy: { kind: 'icarl', bufferSize: 40 }, scenario: 'class', optimizer: 'adam', stops: [20, 60] },
  { strategy: { kind: 'gdumb', bufferSize: 40 }, scenario: 'class', optimizer: 'adam', stops: [20, 60] },
  { strategy: { kind: 'er-ace', bufferSize: 40 }, scenario: 'class', optimizer: 'adam', stops: [20, 60] },
  {
    strategy: { kind: 'agem', bufferSize: 200, sampleSize: 64 },
    scenario: 'domain',
    optimizer: 'sgd',
    stops: [40, 120],
  },
  { strategy: { kind: 'lwf', alpha: 10 }, scenario: 'domain', optimizer: 'adam', stops: [40, 120] },
  { strategy: { kind: 'si', c: 100 }, scenario: 'domain', optimizer: 'adam', stops: [40, 120] },
  { strategy: { kind: 'mas', lambda: 100 }, scenario: 'domain', optimizer: 'adam', stops: [40, 120] },
  { strategy: { kind: 'online-ewc', lambda: 100_000 }, scenario: 'domain', optimizer: 'adam', stops: [40, 120] },
];

function pipeline(
  strategy: Record<string, unknown>,
  scenario: Scenario,
  optimizer: Optimizer = 'adam',
): Record<string, unknown> {
  return syntheticPipeline({
    name: `graph-${String(strategy['kind'])}`,
    seed: 7,
    data: { samplesPerClass: 100, scenario: SCENARIOS[scenario] },
    preprocess: [{ kind: 'normalize' }],
    model: GRAPH,
    optimizer: OPTIMIZERS[optimizer],
    strategy,
    training: { epochs: 5, batchSize: 16 },
    evaluation: { on: 'all', initial: false },
    checkpoint: { everyBatches: 4 },
  });
}

async function run(
  dir: string,
  doc: Record<string, unknown>,
  out: string,
  options: { resume?: boolean; stopFrom?: number } = {},
): Promise<RunOutcome> {
  const file = join(dir, `${out}.pipeline.json`);
  writeFileSync(file, JSON.stringify(doc));
  const controller = new AbortController();
  return runPipeline(await loadPipelineFile(file), {
    outDir: join(dir, out),
    signal: controller.signal,
    ...(options.resume ? { resume: true, warn: () => undefined } : {}),
    observe: (events$) =>
      void events$.subscribe((e) => {
        // The first checkpoint at or after step `stopFrom` stops the run (at the next batch boundary).
        if (e.type === 'checkpoint' && e.step >= (options.stopFrom ?? Infinity)) controller.abort('SIGINT');
      }),
  });
}

/** Accuracy on the first experience after the second, and the run's mean and largest training loss. */
function figures(outcome: RunOutcome): { first: number; loss: number; maxLoss: number } {
  const first = outcome.summary.accuracyMatrix[1]?.[0];
  assert.equal(typeof first, 'number', JSON.stringify(outcome.summary.accuracyMatrix));
  return { first: first as number, loss: outcome.summary.loss?.mean ?? NaN, maxLoss: outcome.summary.loss?.max ?? NaN };
}

test('LwF, SI, A-GEM, iCaRL, GDumb, ER-ACE, MAS and online EWC train a graph model with add, concatenate and batch norm, each keeping the first experience better than naive', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-strategies-'));
  try {
    const naive = new Map<string, number>();
    for (const [scenario, optimizer] of [
      ['class', 'adam'],
      ['domain', 'adam'],
      ['domain', 'sgd'],
    ] as const) {
      const outcome = await run(
        dir,
        pipeline({ kind: 'naive' }, scenario, optimizer),
        `naive-${scenario}-${optimizer}`,
      );
      naive.set(`${scenario} ${optimizer}`, figures(outcome).first);
    }
    const before = tf.memory().numTensors;
    const report: string[] = [];
    for (const c of CASES) {
      const kind = String(c.strategy['kind']);
      const f = figures(await run(dir, pipeline(c.strategy, c.scenario, c.optimizer), kind));
      const baseline = naive.get(`${c.scenario} ${c.optimizer}`) ?? NaN;
      report.push(
        `${kind} (${c.scenario}, ${c.optimizer}): first ${f.first.toFixed(3)} vs naive ${baseline.toFixed(3)}`,
      );
      assert.ok(
        Number.isFinite(f.loss) && Number.isFinite(f.maxLoss),
        `${kind}: finite loss (${f.loss}, ${f.maxLoss})`,
      );
      assert.ok(f.first >= baseline + 0.1, report.join('\n'));
    }
    assert.equal(tf.memory().numTensors, before, 'the runs free every tensor');
    process.stdout.write(`# ${report.join('\n# ')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('iCaRL and SI on a graph model: stopped at a checkpoint and resumed, each ends bit-identical to an uninterrupted run', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-strategies-resume-'));
  try {
    for (const c of [CASES[0], CASES[5]]) {
      if (!c) continue;
      const kind = String(c.strategy['kind']);
      const doc = pipeline(c.strategy, c.scenario, c.optimizer);
      await run(dir, doc, `${kind}-whole`);
      // Stopped in the first experience, resumed, stopped in the second, resumed to the end.
      const first = await run(dir, doc, `${kind}-split`, { stopFrom: c.stops[0] });
      assert.equal(first.stopped, 'SIGINT', `${kind}: the first part stopped`);
      const second = await run(dir, doc, `${kind}-split`, { resume: true, stopFrom: c.stops[1] });
      assert.equal(second.stopped, 'SIGINT', `${kind}: the second part stopped`);
      const last = await run(dir, doc, `${kind}-split`, { resume: true });
      assert.equal(last.stopped, undefined);
      // The stopped parts wrote their stop checkpoints too: every other figure is the same.
      const { checkpoints: split, ...resumed } = deterministicSummary(join(dir, `${kind}-split`));
      const { checkpoints: whole, ...uninterrupted } = deterministicSummary(join(dir, `${kind}-whole`));
      assert.ok(Number(split) > Number(whole), `${kind}: ${String(split)} checkpoints, ${String(whole)} uninterrupted`);
      assert.deepEqual(resumed, uninterrupted, kind);
      assert.deepEqual(finalDigest(join(dir, `${kind}-split`)), finalDigest(join(dir, `${kind}-whole`)), kind);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
