import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import { startRun, type RunHandle } from './start-run.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-start-run-'));

/** Two different small pipelines, both with dropout masks and a quadratic penalty, on wasm (native kernels when built). */
const docA = fixtureDocument({
  name: 'a',
  seed: 7,
  backend: 'wasm',
  model: {
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dropout', rate: 0.25 },
    ],
  },
  strategy: { kind: 'anchored', lambda: 0.5 },
  data: { kind: 'blobs', classes: 4, experiences: 2, perClass: 24 },
  training: { epochs: 2, batchSize: 8, logEvery: 1 },
});
const docB = fixtureDocument({
  name: 'b',
  seed: 11,
  backend: 'wasm',
  model: {
    layers: [
      { type: 'dropout', rate: 0.1 },
      { type: 'dense', units: 12, activation: 'relu' },
      { type: 'dropout', rate: 0.4 },
    ],
  },
  strategy: { kind: 'anchored', lambda: 2 },
  optimizer: { type: 'sgd', learningRate: 0.05 },
  data: { kind: 'blobs', classes: 6, experiences: 3, perClass: 12 },
  training: { epochs: 2, batchSize: 6, logEvery: 1 },
});

interface Trace {
  readonly name: string;
  readonly losses: number[];
  readonly matrix: ReadonlyArray<ReadonlyArray<number | null>>;
}

/** Starts a run and records its logged losses (and, in `order`, which run each batch-end came from). */
function startLoaded(loaded: LoadedPipeline, order?: string[]): { handle: RunHandle; trace: Promise<Trace> } {
  const handle = startRun(loaded, { outDir: out() });
  const losses: number[] = [];
  handle.events$.subscribe((e) => {
    if (e.type !== 'batch-end') return;
    losses.push(e.loss);
    order?.push(loaded.definition.name);
  });
  const trace = handle.outcome.then(({ summary }) => ({ name: summary.name, losses, matrix: summary.accuracyMatrix }));
  return { handle, trace };
}

async function start(doc: Record<string, unknown>): Promise<{ handle: RunHandle; trace: Promise<Trace> }> {
  return startLoaded(await loadFixture(doc));
}

test('two pipelines trained concurrently in one process each end bit-identical to their solo run', async () => {
  await (
    await start(docA)
  ).trace; // warm-up: backend and kernels initialise once
  const soloA = await (await start(docA)).trace;
  const soloB = await (await start(docB)).trace;
  const before = tf.memory().numTensors;
  const order: string[] = [];
  const [loadedA, loadedB] = await Promise.all([loadFixture(docA), loadFixture(docB)]);
  const [a, b] = await Promise.all([startLoaded(loadedA, order).trace, startLoaded(loadedB, order).trace]);
  assert.deepEqual(a, soloA);
  assert.deepEqual(b, soloB);
  assert.ok(soloA.losses.length > 10 && soloB.losses.length > 10);
  // The two runs really interleaved: some of b's steps happened between a's first and last step.
  const firstA = order.indexOf('a'),
    lastA = order.lastIndexOf('a');
  assert.ok(order.slice(firstA, lastA).includes('b'), `steps ran one run after the other: ${order.join('')}`);
  assert.equal(tf.memory().numTensors, before);
});

test('a run asking for another backend while one trains is refused without disturbing the first', async () => {
  const solo = await (await start(docA)).trace;
  const first = await start(docA);
  const other = startRun(await loadFixture({ ...docB, backend: 'cpu' }), { outDir: out() });
  await assert.rejects(
    other.outcome,
    /backend "cpu" cannot be used while another run in this process trains on "wasm"/,
  );
  assert.deepEqual(await first.trace, solo);
  assert.equal(tf.getBackend(), 'wasm');
});

test('stop() ends the run after the current batch with the reason, and the event stream completes', async () => {
  const handle = startRun(await loadFixture(docA), { outDir: out() });
  let completed = false;
  let stoppedAt: number | undefined;
  handle.events$.subscribe({
    next: (e) => {
      if (e.type === 'batch-end' && stoppedAt === undefined) {
        stoppedAt = e.step;
        handle.stop('enough');
      }
    },
    complete: () => (completed = true),
  });
  const outcome = await handle.outcome;
  assert.equal(outcome.stopped, 'enough');
  assert.equal(outcome.summary.steps, stoppedAt);
  assert.ok(outcome.summary.steps < 24, 'a whole run is 2 experiences × 2 epochs × 6 batches');
  assert.ok(completed);
});

test('a failing run rejects its outcome and completes its event stream', async () => {
  const handle = startRun(Promise.reject(new Error('no such pipeline')));
  let completed = false;
  handle.events$.subscribe({ complete: () => (completed = true) });
  await assert.rejects(handle.outcome, /no such pipeline/);
  await new Promise((r) => setImmediate(r));
  assert.ok(completed);
});
