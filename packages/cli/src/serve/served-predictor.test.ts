import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import {
  checkpointModelArtifacts,
  componentMaker,
  EventBus,
  latestValidCheckpoint,
  Rng,
  type DataSource,
  type EvaluationResult,
} from '@engram/core/internal';
import { loadPipelineFile } from '../cli-context.js';
import { ModelVersion, plainView } from './model-version.js';
import { loadCheckpointModel } from './stored-model.js';
import { postJson, startServedRun, testPipeline } from './testing/served-run.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Raw test samples of every experience, as the run's evaluation reads them. */
interface TestSet {
  readonly experience: number;
  readonly x: number[][];
  readonly y: number[];
  readonly task?: number[];
}

async function testSets(file: string): Promise<TestSet[]> {
  const loaded = await loadPipelineFile(file);
  const def = loaded.definition;
  const bus = new EventBus();
  const source = componentMaker(loaded, new Rng(def.seed), bus)<DataSource>('dataset', def.data, '/data');
  try {
    const sets: TestSet[] = [];
    for (const exp of await lastValueFrom(source.experiences().pipe(toArray()))) {
      const x: number[][] = [];
      const y: number[] = [];
      const task: number[] = [];
      for await (const b of exp.test?.batches({ batchSize: 1000, shuffle: false, epoch: 0, seed: 0 }) ?? []) {
        const len = b.sampleShape.reduce((a, c) => a * c, 1);
        for (let i = 0; i < b.y.length; i++) {
          x.push(Array.from(b.x.subarray(i * len, (i + 1) * len)));
          y.push(b.y[i] as number);
          if (b.task) task.push(b.task[i] as number);
        }
      }
      sets.push({ experience: exp.index, x, y, ...(task.length > 0 ? { task } : {}) });
    }
    return sets;
  } finally {
    await source.close?.();
    bus.complete();
  }
}

function confusion(y: readonly number[], labels: ArrayLike<number>, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  y.forEach((c, i) => {
    const row = m[c] as number[];
    const g = labels[i] as number;
    row[g] = (row[g] ?? 0) + 1;
  });
  return m;
}

/** The run's last `evaluation` event (after the last experience). */
function lastEvaluation(outDir: string): EvaluationResult[] {
  const events = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; results?: EvaluationResult[] });
  return events.filter((e) => e.type === 'evaluation').at(-1)?.results ?? [];
}

/** Labels of a version for one test set (its preprocessing, its predictor). */
function versionLabels(v: ModelVersion, set: TestSet, inputLength: number): Int32Array {
  const b = v.prepare({
    x: Float32Array.from(set.x.flat()),
    y: Int32Array.from(set.y),
    sampleShape: [inputLength],
    ...(set.task ? { task: Int32Array.from(set.task) } : {}),
  });
  return v.classify(b.x, set.y.length, b.task).labels;
}

const K = 4;
const FEATURES = 6;

/** A hard class-incremental synthetic pipeline (overlapping blobs: evaluation makes mistakes worth comparing). */
function pipeline(name: string, overrides: Record<string, unknown>): Record<string, unknown> {
  return testPipeline(name, {
    data: { kind: 'synthetic', numClasses: K, features: FEATURES, samplesPerClass: 100, separation: 1, spread: 1 },
    model: {
      layers: [
        { type: 'dense', units: 12, activation: 'relu' },
        { type: 'dense', units: 12, activation: 'relu' },
      ],
    },
    training: { epochs: 2, batchSize: 16, logEvery: 10 },
    evaluation: { on: 'all', initial: false },
    ...overrides,
  });
}

/**
 * Runs `doc` served, then checks that /predict of the final version (run --serve) and the final
 * checkpoint loaded as `engram serve` does both reproduce the run's last evaluation exactly (its
 * confusion matrix per experience), and that the plain network's first output would not.
 */
async function servedAsEvaluated(
  doc: Record<string, unknown>,
  body: (set: TestSet) => Record<string, unknown>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-served-predictor-'));
  const before = tf.memory().numTensors;
  const run = await startServedRun(doc, dir, { maxInstances: 1000, bodyLimit: 1 << 20 });
  try {
    await run.outcome;
    await run.served.settled();
    const sets = await testSets(join(dir, 'pipeline.json'));
    const evaluated = lastEvaluation(run.outDir);
    assert.equal(evaluated.length, sets.length);
    const stored = await loadCheckpointModel(run.outDir, 1, here, () => undefined);
    const cp = await latestValidCheckpoint(run.outDir, () => undefined);
    const plain = new ModelVersion(
      { version: 0, step: 0, experience: 0 },
      plainView(await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(cp)))),
    );
    let plainDiffers = false;
    try {
      for (const set of sets) {
        const expected = evaluated.find((r) => r.experience === set.experience)?.confusion;
        const r = await postJson(`${run.base}/predict`, body(set));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const labels = (r.body.predictions as Array<{ label: number; probabilities: number[] }>).map((p) => p.label);
        assert.deepEqual(
          confusion(set.y, labels, K),
          expected,
          `experience ${set.experience}: /predict of the live server = the run's evaluation`,
        );
        assert.deepEqual(
          confusion(set.y, versionLabels(stored.model, set, FEATURES), K),
          expected,
          `experience ${set.experience}: engram serve of the checkpoint = the run's evaluation`,
        );
        if (JSON.stringify(confusion(set.y, versionLabels(plain, set, FEATURES), K)) !== JSON.stringify(expected))
          plainDiffers = true;
      }
      assert.ok(
        plainDiffers,
        "the plain network's first output predicts differently (the test tells the predictors apart)",
      );
    } finally {
      stored.model.dispose();
      plain.dispose();
    }
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(tf.memory().numTensors, before);
}

test('/predict of an iCaRL run answers with the nearest-mean-of-exemplars classifier its evaluation used', async () => {
  await servedAsEvaluated(pipeline('served-icarl', { strategy: { kind: 'icarl', bufferSize: 24 } }), (set) => ({
    instances: set.x,
  }));
});

test('/predict of a Hedge run answers with the α-weighted mixture of its heads, as its evaluation did', async () => {
  await servedAsEvaluated(pipeline('served-hedge', { strategy: { kind: 'hedge' } }), (set) => ({ instances: set.x }));
});

test("/predict of a task-incremental multi-head run needs each request's task and then scores as its evaluation did", async () => {
  const doc = pipeline('served-multi-head', {
    data: {
      kind: 'synthetic',
      numClasses: K,
      features: FEATURES,
      samplesPerClass: 100,
      separation: 1,
      spread: 1,
      scenario: { type: 'task-incremental', classesPerExperience: 2 },
    },
    adjust: [{ kind: 'multi-head' }],
  });
  await servedAsEvaluated(doc, (set) => ({ instances: set.x, task: set.task ?? [] }));
  const dir = mkdtempSync(join(tmpdir(), 'engram-served-task-'));
  const run = await startServedRun(doc, dir);
  try {
    await run.outcome;
    await run.served.settled();
    const missing = await postJson(`${run.base}/predict`, { instances: [new Array(FEATURES).fill(0)] });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.path, '/task');
    assert.match(String(missing.body.error), /task-incremental/);
    const outOfRange = await postJson(`${run.base}/predict`, { instances: [new Array(FEATURES).fill(0)], task: 7 });
    assert.equal(outOfRange.status, 400);
    assert.match(String(outOfRange.body.error), /^\/task: the data has 2 tasks/);
    const wrongCount = await postJson(`${run.base}/predict`, {
      instances: [new Array(FEATURES).fill(0), new Array(FEATURES).fill(1)],
      task: [0],
    });
    assert.equal(wrongCount.status, 400);
    // One task for all instances: only that task's classes (task 1 owns classes 2 and 3) are predicted.
    const one = await postJson(`${run.base}/predict`, {
      instances: [new Array(FEATURES).fill(0), new Array(FEATURES).fill(3)],
      task: 1,
    });
    assert.equal(one.status, 200);
    for (const p of one.body.predictions as Array<{ label: number; probabilities: number[] }>) {
      assert.ok(p.label === 2 || p.label === 3, `label ${p.label} belongs to task 1`);
      assert.ok(
        (p.probabilities[0] ?? 1) < 1e-6 && (p.probabilities[1] ?? 1) < 1e-6,
        "other tasks' classes get no probability",
      );
    }
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
