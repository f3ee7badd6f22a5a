import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '@engram/core/internal';
import { MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** Core's test fixtures as a plugin: the `blobs` dataset, the `plain` strategy and the `count` stage. */
const FIXTURE = join(root, 'packages', 'core', 'dist', 'testing', 'fixture.plugin.js');

function engram(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--allow-local-plugins'], {
    encoding: 'utf8',
    timeout: patience(120_000),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A pipeline in its own folder over the fixture plugin, with `stages` as given. */
function pipelineWith(stages: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'engram-validate-'));
  // Only plugin files under the pipeline's folder load: one there re-exports the fixture plugin.
  writeFileSync(join(dir, 'fixture.js'), `export { default } from '${pathToFileURL(FIXTURE).href}';\n`);
  const file = join(dir, 'p.pipeline.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'anchored',
      seed: 1,
      backend: 'cpu',
      plugins: ['./fixture.js'],
      data: { kind: 'blobs', classes: 4, experiences: 2, perClass: 10 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      strategy: { kind: 'plain' },
      training: { epochs: 1, batchSize: 16 },
      stages,
      output: { dir: 'out' },
      checkpoint: { enabled: false },
    }),
  );
  return file;
}

test('validate refuses a misspelt stage anchor with the same message, pointer and exit code 2 as run', () => {
  const file = pipelineWith([{ kind: 'count', after: 'trian' }]);
  const validated = engram(['validate', file]);
  const ran = engram(['run', file, '--quiet']);
  assert.equal(ran.status, 2, ran.stderr);
  assert.match(ran.stderr, /^ {2}\/stages\/0\/after: unknown stage "trian"/m, ran.stderr);
  assert.equal(validated.status, 2, `${validated.stdout}${validated.stderr}`);
  assert.equal(validated.stderr, ran.stderr);
  assert.doesNotMatch(validated.stdout, /valid/);
});

test('validate accepts an anchor at a built-in stage or an earlier plugin stage, and refuses one at a later stage', () => {
  const good = pipelineWith([
    { kind: 'count', after: 'train' },
    { kind: 'count', before: 'count' },
  ]);
  const ok = engram(['validate', good]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /: valid \(/);
  const later = pipelineWith([
    { kind: 'fail', after: 'count' },
    { kind: 'count', after: 'train' },
  ]);
  const refused = engram(['validate', later]);
  assert.equal(refused.status, 2, refused.stdout);
  assert.match(
    refused.stderr,
    /^ {2}\/stages\/0\/after: unknown stage "count"; known: preprocess, adjust, train, evaluate, checkpoint$/m,
  );
  assert.equal(engram(['run', later, '--quiet']).stderr, refused.stderr);
});

/** input [8] → d1 → d2; sum = d1 + d2; cat = [sum, d1]; dense 4: a model file with merge nodes. */
async function writeMergeModels(dir: string): Promise<{ tfjs: string; onnx: string }> {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [8], name: 'input' });
  const d1 = tf.layers.dense({ units: 8, activation: 'relu', name: 'd1' }).apply(input) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: 8, name: 'd2' }).apply(d1) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([d1, d2]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([sum, d1]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, name: 'out' }).apply(cat) as tf.SymbolicTensor;
  const network = tf.model({ inputs: input, outputs: out });
  await network.save(
    tf.io.withSaveHandler((artifacts) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest }),
      );
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  const onnx = exportOnnx(network, {
    softmax: false,
    normalize: [],
    channelsFirst: false,
    metadata: {},
    producerVersion: 'test',
  });
  writeFileSync(join(dir, 'model.onnx'), onnx);
  network.dispose();
  return { tfjs: 'model.json', onnx: 'model.onnx' };
}

/** A pipeline in `dir` that loads `load` (relative to it) and applies `adjust`, over synthetic data of 8 features. */
function loadingPipeline(dir: string, name: string, load: string, adjust: unknown[]): string {
  const file = join(dir, `${name}.pipeline.json`);
  writeFileSync(
    file,
    JSON.stringify(
      syntheticPipeline({
        name,
        data: { samplesPerClass: 10, testFraction: 0.2 },
        model: { load },
        adjust,
        output: { dir: `out-${name}` },
      }),
    ),
  );
  return file;
}

test('validate refuses a chain surgery on a loaded tfjs or ONNX model with merge nodes as run does: exit 2, same message at /adjust/<i>', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-validate-merge-'));
  try {
    const models = await writeMergeModels(dir);
    for (const [format, load] of Object.entries(models)) {
      const file = loadingPipeline(dir, `widen-${format}`, load, [
        { kind: 'freeze', layers: ['d1'] },
        { kind: 'widen-layer', layers: ['d2'], units: 12 },
      ]);
      const validated = engram(['validate', file]);
      const ran = engram(['run', file, '--quiet']);
      assert.equal(ran.status, 2, ran.stderr);
      assert.match(
        ran.stderr,
        new RegExp(
          `^ {2}/adjust/1: widen-layer rewrites a chain of layers, and the loaded model \\(${load.replace('.', '\\.')}\\) ` +
            'has merge nodes \\((Add|Concatenate) layer "[^"]+" takes 2 inputs\\)',
          'm',
        ),
      );
      assert.equal(validated.status, 2, `${format}: ${validated.stdout}${validated.stderr}`);
      assert.equal(validated.stderr, ran.stderr, format);
      assert.doesNotMatch(validated.stdout, /valid/);
      // Without the chain surgery the same loaded model validates (freeze does not rewrite the chain).
      const frozen = loadingPipeline(dir, `freeze-${format}`, load, [{ kind: 'freeze', layers: ['d1'] }]);
      const ok = engram(['validate', frozen]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /: valid \(/);
    }
    // A model file that is not there: refused at /model/load by both, with the same words.
    const missing = loadingPipeline(dir, 'missing', 'nowhere/model.json', [{ kind: 'reinit-layers', layers: ['d2'] }]);
    const refused = engram(['validate', missing]);
    assert.equal(refused.status, 2, refused.stdout);
    assert.match(refused.stderr, /^ {2}\/model\/load: .*nowhere[/\\]model\.json/m);
    assert.equal(engram(['run', missing, '--quiet']).stderr, refused.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
