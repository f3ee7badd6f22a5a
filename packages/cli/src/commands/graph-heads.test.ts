import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PipelineError, runPipeline } from '@engram/core';
import { fileModelLoader } from '@engram/core/internal';
import { loadPipelineFile } from '../cli-context.js';
import { checkpointDirs } from './e2e-harness.js';

// grow-head and multi-head (task-incremental heads) on a graph model with a residual add and a concatenate.

const GRAPH = {
  graph: {
    nodes: [
      { name: 'd1', type: 'dense', units: 12, activation: 'relu', inputs: ['input'] },
      { name: 'd2', type: 'dense', units: 12, inputs: ['d1'] },
      { name: 'sum', type: 'add', inputs: ['d2', 'd1'] },
      { name: 'side', type: 'dense', units: 4, activation: 'tanh', inputs: ['input'] },
      { name: 'cat', type: 'concatenate', inputs: ['sum', 'side'] },
    ],
  },
  head: { units: 2 },
};

function pipeline(adjust: unknown[]): Record<string, unknown> {
  return {
    name: 'graph-heads',
    seed: 4,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'synthetic',
      numClasses: 6,
      features: 8,
      samplesPerClass: 40,
      scenario: { type: 'task-incremental', classesPerExperience: 2 },
      testFraction: 0.25,
    },
    model: GRAPH,
    adjust,
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: [
      { kind: 'replay', bufferSize: 30 },
      { kind: 'ewc', lambda: 10 },
    ],
    training: { epochs: 3, batchSize: 16 },
    evaluation: { on: 'all', initial: false },
    checkpoint: { enabled: true },
  };
}

async function run(dir: string, adjust: unknown[]): Promise<Awaited<ReturnType<typeof runPipeline>>> {
  const file = join(dir, 'pipeline.json');
  writeFileSync(file, JSON.stringify(pipeline(adjust)));
  return runPipeline(await loadPipelineFile(file), { outDir: join(dir, 'run') });
}

test('grow-head then multi-head on a graph model: the head grows from 2 to 6 outputs and each task is scored over its own classes', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-heads-'));
  try {
    const before = tf.memory().numTensors;
    const outcome = await run(dir, [{ kind: 'grow-head' }, { kind: 'multi-head' }]);
    assert.equal(tf.memory().numTensors, before, 'the run frees every tensor');
    const matrix = outcome.summary.accuracyMatrix;
    assert.equal(matrix.length, 3);
    const last = matrix[2] ?? [];
    // Task-IL: two classes per task, so chance is 50%; every task stays well above it.
    assert.ok(
      last.every((v) => typeof v === 'number' && v > 0.75),
      JSON.stringify(matrix),
    );
    const newest = checkpointDirs(join(dir, 'run')).pop() ?? '';
    const model = await tf.loadLayersModel(fileModelLoader(join(newest, 'model', 'model.json')));
    try {
      const head = model.layers[model.layers.length - 1] as tf.layers.Layer;
      assert.deepEqual(head.outputShape, [null, 6], 'grown to the six classes');
      assert.deepEqual(head.getWeights()[0]?.shape, [16, 6], "fed by the concatenate's 12 + 4 features");
      assert.ok(model.layers.some((l) => l.getClassName() === 'Add'));
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grow-head or a layer surgery listed after multi-head is refused when the pipeline loads, at its /adjust pointer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-graph-heads-'));
  try {
    const problems = async (adjust: unknown[]): Promise<string[]> => {
      const file = join(dir, 'pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline(adjust)));
      try {
        await loadPipelineFile(file);
      } catch (e) {
        if (e instanceof PipelineError) return e.problems.map((p) => `${p.path}: ${p.message}`);
        throw e;
      }
      return [];
    };
    assert.deepEqual(
      await problems([{ kind: 'multi-head' }, { kind: 'freeze', layers: ['d1'] }, { kind: 'grow-head' }]),
      [
        '/adjust/2: grow-head rebuilds the network and would drop the wrapper multi-head (/adjust/0) puts on the model ' +
          "(it masks the logits outside each sample's task); list grow-head before multi-head",
      ],
    );
    assert.deepEqual(await problems([{ kind: 'grow-head' }, { kind: 'multi-head' }]), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
