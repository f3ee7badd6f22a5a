import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runPipeline } from '../index.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { exportOnnx } from './onnx/onnx-export.js';

// A model file with merges (a residual `add` and a `concatenate`) is only known once it is loaded: the
// chain surgeries are refused then, at their /adjust pointer, before any training (exit 2 in the CLI).

const SURGERIES: Record<string, Record<string, unknown>> = {
  'widen-layer': { kind: 'widen-layer', layers: ['d2'], units: 12 },
  'insert-layer': { kind: 'insert-layer', after: 'd2' },
  'set-activation': { kind: 'set-activation', layers: ['d2'], activation: 'gelu' },
  'reinit-layers': { kind: 'reinit-layers', layers: ['d2'] },
};

/** input [8] → d1 → d2; sum = d1 + d2; cat = [sum, d1]; head (4 classes). */
function residualNetwork(): tf.LayersModel {
  const input = tf.input({ shape: [8], name: 'input' });
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const d1 = tf.layers
    .dense({ units: 8, activation: 'relu', name: 'd1', kernelInitializer: init(1) })
    .apply(input) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: 8, name: 'd2', kernelInitializer: init(2) }).apply(d1) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([d1, d2]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([sum, d1]) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 4, name: 'head', kernelInitializer: init(3) }).apply(cat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: head });
}

/** Writes the network as a tfjs Layers `model.json` + `weights.bin` and as an ONNX file under `dir`. */
async function writeModelFiles(dir: string): Promise<{ tfjs: string; onnx: string }> {
  const network = residualNetwork();
  const tfjs = join(dir, 'model.json');
  await network.save(
    tf.io.withSaveHandler((artifacts) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      writeFileSync(tfjs, JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest }));
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  const onnx = join(dir, 'model.onnx');
  writeFileSync(
    onnx,
    exportOnnx(network, { softmax: false, normalize: [], channelsFirst: false, metadata: {}, producerVersion: 'test' }),
  );
  network.dispose();
  return { tfjs, onnx };
}

async function problemsOf(load: string, adjust: unknown[]): Promise<string[]> {
  const doc = fixtureDocument({ model: { load }, adjust, data: { kind: 'blobs', classes: 4, experiences: 2 } });
  try {
    await runPipeline(await loadFixture(doc), { outDir: mkdtempSync(join(tmpdir(), 'engram-merge-run-')) });
  } catch (e) {
    if (e instanceof PipelineError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

test('chain surgeries on a loaded tfjs or ONNX model with merge nodes are refused at their /adjust pointer, naming the merge', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-merge-files-'));
  try {
    const files = await writeModelFiles(dir);
    const start = tf.memory().numTensors;
    for (const [kind, entry] of Object.entries(SURGERIES)) {
      const fromTfjs = await problemsOf(files.tfjs, [{ kind: 'freeze', layers: ['d1'] }, entry]);
      assert.deepEqual(fromTfjs, [
        `/adjust/1: ${kind} rewrites a chain of layers, and the loaded model (${files.tfjs}) has merge nodes ` +
          '(Add layer "sum" takes 2 inputs); it supports models without merges (add/concatenate) only',
      ]);
      const fromOnnx = await problemsOf(files.onnx, [entry]);
      assert.equal(fromOnnx.length, 1, fromOnnx.join('\n'));
      assert.match(
        fromOnnx[0] ?? '',
        new RegExp(
          `^/adjust/0: ${kind} rewrites a chain of layers, and the loaded model \\(.*model\\.onnx\\) has merge ` +
            'nodes \\((Add|Concatenate) layer "[^"]+" takes 2 inputs\\)',
        ),
      );
    }
    assert.equal(tf.memory().numTensors, start, 'the refused runs free their models');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a loaded model with merge nodes still runs with adjustments that do not rewrite a chain', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'engram-merge-files-'));
  try {
    const files = await writeModelFiles(dir);
    const doc = fixtureDocument({
      model: { load: files.tfjs },
      adjust: [{ kind: 'freeze', layers: ['d1'] }],
      data: { kind: 'blobs', classes: 4, experiences: 2 },
    });
    const outcome = await runPipeline(await loadFixture(doc), { outDir: join(dir, 'run') });
    assert.equal(outcome.summary.accuracyMatrix.length, 2);
    assert.ok(outcome.summary.steps > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
