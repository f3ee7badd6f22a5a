import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { continualMetrics, parseAccuracyMatrixCsv } from '@engram/core/internal';
import { schemaText } from './commands/schema.command.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const main = join(here, 'main.js');

function engram(
  args: string[],
  cwd = root,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'engram-cli-'));
}

test('validate lists every mistake with its path and exits 2 without a stack trace', () => {
  const dir = tmp();
  const file = join(dir, 'bad.pipeline.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'bad name!',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'mnist', scenario: { type: 'class-incremental', experiences: 5 }, testFraction: 2 },
      model: { layers: [{ type: 'dense', units: 0 }] },
      optimizer: { type: 'adan' },
      strategy: { kind: 'naive' },
      training: { epochs: 1, batchsize: 32 },
    }),
  );
  const r = engram(['validate', file]);
  assert.equal(r.status, 2, r.stderr);
  for (const path of [
    '/name',
    '/data/testFraction',
    '/model/layers/0/units',
    '/optimizer/type',
    '/training/batchsize',
  ]) {
    assert.match(r.stderr, new RegExp(`^  ${path}: `, 'm'), r.stderr);
  }
  assert.match(
    r.stderr,
    /\/optimizer\/type: unknown type "adan" \(did you mean "adam"\?\); known: sgd, momentum, adam, adamw, rmsprop, adagrad, adamax/,
  );
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
});

test('a missing file and bad JSON syntax exit 2 with a one-line reason', () => {
  const dir = tmp();
  const missing = engram(['run', join(dir, 'nope.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*nope\.json: no such file/);
  const file = join(dir, 'syntax.json');
  writeFileSync(file, '{\n  "name": "x"\n  "seed": 1\n}');
  const bad = engram(['validate', file]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /invalid JSON at line 3, column 3/);
});

test('a plugin outside the workspace adds a strategy that a pipeline uses', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'node_modules', '@engram'), { recursive: true });
  symlinkSync(join(root, 'packages', 'core'), join(dir, 'node_modules', '@engram', 'core'), 'dir');
  mkdirSync(join(dir, 'my-plugin'));
  writeFileSync(
    join(dir, 'my-plugin', 'index.js'),
    `
import { ContainerModule, TOKENS, Type } from '@engram/core';
import * as tf from '@tensorflow/tfjs';
class WeightDecay {
  name = 'weight-decay';
  constructor(options) { this.lambda = options.lambda; }
  penalty(ctx) {
    return tf.mul(this.lambda, tf.addN(ctx.model.trainableVariables().map((v) => tf.sum(tf.square(v)))));
  }
}
export default {
  name: 'my-plugin', apiVersion: 1,
  module: new ContainerModule(({ bind }) => bind(TOKENS.Component).toConstantValue({
    role: 'strategy', kind: 'weight-decay', description: 'L2 penalty.',
    options: Type.Object({ lambda: Type.Number({ default: 0.001 }) }, { additionalProperties: false }),
    create: (options) => new WeightDecay(options),
  })),
};
`,
  );
  writeFileSync(join(dir, 'my-plugin', 'package.json'), '{ "type": "module" }');
  symlinkSync(join(root, 'node_modules', '@tensorflow'), join(dir, 'node_modules', '@tensorflow'), 'dir');
  writeFileSync(
    join(dir, 'p.json'),
    JSON.stringify({
      name: 'oot',
      seed: 1,
      backend: 'cpu',
      plugins: ['@engram/datasets', './my-plugin/index.js'],
      data: {
        kind: 'mnist',
        scenario: { type: 'class-incremental', experiences: 2 },
        limitPerClass: 10,
        flatten: true,
      },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      strategy: { kind: 'weight-decay', lambda: 0.01 },
      training: { epochs: 1, batchSize: 16 },
      checkpoint: { enabled: false },
    }),
  );
  const out = join(dir, 'out');
  const r = engram(['run', 'p.json', '--out', out, '--json', '--allow-local-plugins'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    strategy: string;
    accuracyMatrix: number[][];
  };
  assert.equal(summary.strategy, 'weight-decay');
  assert.equal(summary.accuracyMatrix.length, 2);
  const batchEnds = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; penalty?: number })
    .filter((e) => e.type === 'batch-end');
  assert.ok(
    batchEnds.length > 0 && batchEnds.every((e) => (e.penalty ?? 0) > 0),
    'the plugin penalty reaches the loss',
  );
});

test("a plugin outside the workspace adds a stage that counts batches into the run's outputs", () => {
  const dir = tmp();
  mkdirSync(join(dir, 'node_modules', '@engram'), { recursive: true });
  symlinkSync(join(root, 'packages', 'core'), join(dir, 'node_modules', '@engram', 'core'), 'dir');
  mkdirSync(join(dir, 'counter'));
  writeFileSync(
    join(dir, 'counter', 'index.js'),
    `
import { ContainerModule, TOKENS, Type, eachItem } from '@engram/core';
class BatchCounter {
  name = 'batch-counter';
  batches = 0;
  samples = 0;
  constructor(options) { this.key = options.key; }
  operator(run) {
    return eachItem((item) => {
      if (item.kind === 'batch') { this.batches++; this.samples += item.batch.y.length; }
      if (item.kind === 'run-end') run.outputs.set(this.key, { batches: this.batches, samples: this.samples });
    });
  }
  state() { return { meta: { batches: this.batches, samples: this.samples } }; }
  restore(s) { this.batches = s.meta.batches; this.samples = s.meta.samples; }
}
export default {
  name: 'counter', apiVersion: 1,
  module: new ContainerModule(({ bind }) => bind(TOKENS.Component).toConstantValue({
    role: 'stage', kind: 'batch-counter', description: 'Counts the batches trained on.',
    options: Type.Object({ key: Type.String({ default: 'batches' }) }, { additionalProperties: false }),
    create: (options) => new BatchCounter(options),
  })),
};
`,
  );
  writeFileSync(join(dir, 'counter', 'package.json'), '{ "type": "module" }');
  writeFileSync(
    join(dir, 'p.json'),
    JSON.stringify({
      name: 'counted',
      seed: 1,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies', './counter/index.js'],
      data: {
        kind: 'mnist',
        scenario: { type: 'class-incremental', experiences: 2 },
        limitPerClass: 10,
        flatten: true,
      },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      strategy: { kind: 'naive' },
      stages: [{ kind: 'batch-counter', after: 'train', key: 'counted' }],
      training: { epochs: 2, batchSize: 16 },
      checkpoint: { enabled: false },
    }),
  );
  const out = join(dir, 'out');
  const r = engram(['run', 'p.json', '--out', out, '--json', '--allow-local-plugins'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    trainSamples: number;
    steps: number;
    outputs: Record<string, { batches: number; samples: number }>;
  };
  assert.deepEqual(summary.outputs['counted'], { batches: summary.steps, samples: summary.trainSamples });
  assert.ok(summary.steps > 0);
  const listed = engram(['plugins', '--plugin', './counter/index.js'], dir);
  assert.match(listed.stdout, /batch-counter/);
});

test('the committed pipeline schema is the one engram schema generates', async () => {
  const committed = readFileSync(join(root, 'schemas', 'pipeline.schema.json'), 'utf8');
  assert.equal(committed, await schemaText());
});

test('every example pipeline validates and points at the committed schema', () => {
  const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.pipeline.json'),
  );
  assert.ok(examples.includes('quickstart.pipeline.json'));
  assert.ok(examples.length >= 40, `found ${examples.length} examples`);
  for (const f of examples) {
    const doc = JSON.parse(readFileSync(join(root, 'examples', f), 'utf8')) as { $schema?: string };
    const depth = f.split('/').length - 1;
    assert.equal(doc.$schema, `${'../'.repeat(depth + 1)}schemas/pipeline.schema.json`, f);
  }
  // One process validates them all (each `engram validate` would pay the start-up again). The data of
  // image-folder examples is written by a script first (examples/image-folder): their documents only.
  const needsTree = (f: string): boolean => readFileSync(join(root, 'examples', f), 'utf8').includes('"image-folder"');
  const r = engram(['validate', ...examples.filter((f) => !needsTree(f)).map((f) => join('examples', f))]);
  assert.equal(r.status, 0, r.stderr);
  const trees = examples.filter(needsTree);
  assert.ok(trees.length >= 1);
  const docs = engram(['validate', '--no-data', ...trees.map((f) => join('examples', f))]);
  assert.equal(docs.status, 0, docs.stderr);
});

test('the quickstart runs to completion and prints the accuracy matrix', () => {
  const out = tmp();
  const r = engram(['run', 'examples/quickstart.pipeline.json', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /accuracy matrix/);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
  for (const key of ['averageAccuracy', 'accuracyMatrix', 'backend', 'samplesPerSecond', 'wallSeconds'])
    assert.ok(key in summary, key);
  const matrix = summary['accuracyMatrix'] as number[][];
  assert.equal(matrix.length, 5);
  // Naive class-incremental fine-tuning forgets: the first experience is mostly lost at the end.
  assert.ok((matrix[4]?.[0] ?? 1) < 0.5, `accuracy on exp 0 at the end: ${matrix[4]?.[0]}`);
  assert.ok((matrix[0]?.[0] ?? 0) > 0.9, `accuracy on exp 0 after training it: ${matrix[0]?.[0]}`);

  // Every output file agrees with the others.
  const events = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; time: number; type: string });
  events.forEach((e, i) => assert.equal(e.seq, i));
  assert.ok(
    events.every((e, i) => i === 0 || e.time >= (events[i - 1]?.time ?? 0)),
    'event times never go back',
  );
  assert.equal(events.filter((e) => e.type === 'evaluation').length, 6, 'initial + one per experience');
  const csv = parseAccuracyMatrixCsv(readFileSync(join(out, 'accuracy-matrix.csv'), 'utf8'));
  assert.deepEqual(csv.matrix, matrix);
  const initial = summary['initialAccuracy'] as number[];
  assert.deepEqual(csv.initial, initial);
  const m = continualMetrics(matrix, initial);
  for (const key of ['averageAccuracy', 'bwt', 'fwt', 'forgetting', 'learningAccuracy'] as const)
    assert.equal(summary[key], m[key], key);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const chart of ['accuracy-matrix', 'accuracy-over-time', 'forgetting', 'loss']) {
    assert.match(html, new RegExp(`data-chart="${chart}"[\\s\\S]*?<svg`), chart);
  }
  assert.doesNotMatch(html, /<script[^>]+src=|<link|(src|href)="https?:/, 'the report loads nothing from the network');
});

test('with ENGRAM_NATIVE=0 a pipeline trains on the pure wasm kernels and says so', () => {
  const out = tmp();
  const dir = tmp();
  writeFileSync(
    join(dir, 'p.json'),
    JSON.stringify({
      name: 'no-native',
      seed: 3,
      backend: 'wasm',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'mnist', scenario: { type: 'class-incremental', experiences: 2 }, limitPerClass: 60 },
      model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.005 },
      strategy: { kind: 'naive' },
      training: { epochs: 3, batchSize: 16 },
      checkpoint: { enabled: false },
    }),
  );
  const r = engram(['run', join(dir, 'p.json'), '--out', out, '--quiet'], root, { ENGRAM_NATIVE: '0' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', '--quiet prints nothing');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    backend: string;
    accuracyMatrix: number[][];
  };
  assert.equal(summary.backend, 'wasm (native kernels disabled: ENGRAM_NATIVE=0)');
  assert.ok((summary.accuracyMatrix[0]?.[0] ?? 0) > 0.8, `learned experience 0: ${summary.accuracyMatrix[0]?.[0]}`);
});

test('the strategy package of docs/writing-a-strategy.md passes its own tests and trains out of tree', () => {
  const dir = join(tmp(), 'my-strategy');
  cpSync(join(root, 'docs', 'examples', 'my-strategy'), dir, { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@engram'), { recursive: true });
  for (const pkg of ['core', 'datasets'])
    symlinkSync(join(root, 'packages', pkg), join(dir, 'node_modules', '@engram', pkg), 'dir');
  symlinkSync(join(root, 'node_modules', '@tensorflow'), join(dir, 'node_modules', '@tensorflow'), 'dir');
  // A nested test runner must not report to ours (NODE_TEST_CONTEXT), so it prints its own TAP.
  const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  const tests = spawnSync(process.execPath, ['--test', 'test/'], { cwd: dir, encoding: 'utf8', env });
  assert.equal(tests.status, 0, tests.stdout + tests.stderr);
  assert.match(tests.stdout, /^# fail 0$/m);
  const out = join(dir, 'out');
  const r = engram(['run', 'pipeline.json', '--out', out, '--quiet', '--allow-local-plugins'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    strategy: string;
    accuracyMatrix: number[][];
  };
  assert.equal(summary.strategy, 'l2-anchor');
  assert.equal(summary.accuracyMatrix.length, 5);
});

test('a component option rule that relates two fields is enforced: a finite synthetic set with drift is refused', () => {
  const dir = tmp();
  const doc = JSON.parse(readFileSync(join(root, 'examples', 'quickstart.pipeline.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete doc['$schema'];
  const write = (data: Record<string, unknown>): string => {
    const file = join(dir, `${Object.keys(data).join('-')}.pipeline.json`);
    writeFileSync(file, JSON.stringify({ ...doc, data }));
    return file;
  };
  const refused = engram(['validate', write({ kind: 'synthetic', drift: 'abrupt' })]);
  assert.equal(refused.status, 2);
  assert.match(refused.stdout + refused.stderr, /\/data: has "drift" but not "endless": true/);
  assert.equal(engram(['validate', write({ kind: 'synthetic', drift: 'abrupt', endless: true })]).status, 0);
  assert.equal(engram(['validate', write({ kind: 'synthetic', endless: false })]).status, 0);
});
