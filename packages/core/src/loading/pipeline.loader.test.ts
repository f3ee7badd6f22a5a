import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { parseJson } from '../pipeline/json-source.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';

async function problems(doc: Record<string, unknown>): Promise<string[]> {
  try {
    await loadFixture(doc);
  } catch (e) {
    if (e instanceof PipelineError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

test('a valid pipeline gets its defaults filled in', async () => {
  const loaded = await loadFixture(fixtureDocument({ training: { batchSize: 8 } }));
  assert.equal(loaded.definition.training.epochs, undefined, 'no budget given: the train stage runs 1 epoch');
  assert.equal(loaded.definition.training.shuffle, true);
  assert.equal(loaded.definition.evaluation.on, 'all');
  assert.deepEqual(loaded.definition.adjust, []);
});

test('every mistake in a document is reported with its JSON pointer', async () => {
  const found = await problems(
    fixtureDocument({
      seed: -1,
      training: { epochs: 0, batchSize: 16, epoch: 3 },
      optimizer: { type: 'adam', learningRate: 'fast' },
      model: { layers: [{ type: 'dense' }, { type: 'conv3d', filters: 2 }] },
      strategy: { kind: 'nope' },
      extra: true,
    }),
  );
  const paths = found.map((p) => p.split(':')[0]);
  for (const expected of [
    '/seed',
    '/training/epochs',
    '/training/epoch',
    '/optimizer/learningRate',
    '/model/layers/0/units',
    '/model/layers/1/type',
    '/strategy/kind',
    '/extra',
  ]) {
    assert.ok(paths.includes(expected), `missing ${expected} in:\n${found.join('\n')}`);
  }
  assert.ok(
    found.some(
      (p) =>
        p.startsWith('/strategy/kind: unknown kind "nope"; known:') && p.includes('plain') && p.includes('recorder'),
    ),
    found.join('\n'),
  );
  assert.ok(
    found.some((p) =>
      p.startsWith('/training/epoch: unknown property (did you mean "epochs"?); expected one of: epochs, batchSize'),
    ),
    found.join('\n'),
  );
});

test('an unknown kind or key names the closest known one, and a missing kind is reported once', async () => {
  const found = await problems(fixtureDocument({ strategy: { kind: 'plian' }, training: { batchsize: 8 }, data: {} }));
  assert.ok(
    found.some((p) => p.startsWith('/strategy/kind: unknown kind "plian" (did you mean "plain"?); known:')),
    found.join('\n'),
  );
  assert.ok(
    found.some((p) =>
      p.startsWith(
        '/training/batchsize: unknown property (did you mean "batchSize"?); expected one of: epochs, batchSize, ' +
          'shuffle, maxSamples, logEvery',
      ),
    ),
    found.join('\n'),
  );
  assert.equal(found.filter((p) => p.startsWith('/data/kind:')).length, 1, found.join('\n'));
  const far = await problems(fixtureDocument({ strategy: { kind: 'zzzzzz' } }));
  assert.ok(
    far.some((p) => p.startsWith('/strategy/kind: unknown kind "zzzzzz"; known:')),
    far.join('\n'),
  );
});

test('training takes a budget in epochs or in iterations, and refuses both with a one-line reason', async () => {
  assert.equal(
    (await loadFixture(fixtureDocument({ training: { iterations: 30, batchSize: 8 } }))).definition.training.iterations,
    30,
  );
  assert.deepEqual(await problems(fixtureDocument({ training: { epochs: 2, iterations: 30 } })), [
    '/training: set either epochs or iterations, not both',
  ]);
  assert.deepEqual(await problems(fixtureDocument({ training: { iterations: 0 } })), [
    '/training/iterations: must be >= 1',
  ]);
});

test('options of plugin components are validated with the schema the plugin registered', async () => {
  const found = await problems(fixtureDocument({ data: { kind: 'blobs', classes: 1, colour: 'red' } }));
  assert.deepEqual(
    found.sort(),
    [
      '/data/classes: must be >= 2',
      '/data/colour: unknown property; expected one of: kind, classes, experiences, perClass, features, endless',
    ].sort(),
  );
});

test('an unknown plugin is reported at its place in the plugins list', async () => {
  const found = await problems(fixtureDocument({ plugins: ['engram-plugin-does-not-exist'] }));
  assert.equal(found.length, 1);
  assert.match(found[0] ?? '', /^\/plugins\/0: cannot load plugin "engram-plugin-does-not-exist": package not found /);
});

test('a model file that does not exist is reported at /model/load', async () => {
  const found = await problems(fixtureDocument({ model: { load: 'missing/model.json' } }));
  assert.deepEqual(found, ['/model/load: no model file at /tmp/engram-fixture/missing/model.json']);
});

test('a model of more than 1,000 layers is refused at /model/layers, 1,000 are accepted', async () => {
  const layers = (n: number): unknown[] => Array.from({ length: n }, () => ({ type: 'dense', units: 2 }));
  const found = await problems(fixtureDocument({ model: { layers: layers(1001) } }));
  assert.deepEqual(found, ['/model/layers: must NOT have more than 1000 items']);
  assert.deepEqual(await problems(fixtureDocument({ model: { layers: layers(1000) } })), []);
});

test('bad JSON syntax is reported with line and column', () => {
  assert.throws(
    () => parseJson('{\n  "name": "x",\n  "seed": ,\n}', 'p.json'),
    (e: unknown) => {
      assert.ok(e instanceof PipelineError);
      assert.match(e.problems[0]?.message ?? '', /^invalid JSON at line 3, column 11/);
      return true;
    },
  );
});

test('training controls the schema cannot judge are reported at their pointer before the run', async () => {
  const step = await problems(
    fixtureDocument({ optimizer: { type: 'sgd', schedule: { type: 'step' } }, training: { epochs: 2, batchSize: 8 } }),
  );
  assert.deepEqual(step, ['/optimizer/schedule/stepSize: a step schedule needs stepSize']);
  const cosine = await problems(
    fixtureDocument({
      optimizer: { type: 'adamw', schedule: { type: 'cosine', scope: 'run' } },
      training: { epochs: 2, batchSize: 8 },
    }),
  );
  assert.equal(cosine.length, 1);
  assert.match(cosine[0] ?? '', /^\/optimizer\/schedule\/period: a cosine schedule needs a period/);
  const fine = await problems(
    fixtureDocument({
      optimizer: { type: 'adamw', schedule: { type: 'cosine', warmup: 1 } },
      training: { epochs: 4, batchSize: 8, clipNorm: 1, validation: { fraction: 0.2, earlyStopping: { patience: 2 } } },
    }),
  );
  assert.deepEqual(fine, []);
  // no default is filled into an existing optimizer: a checkpoint of an earlier version still resumes
  const plain = await loadFixture(fixtureDocument({ optimizer: { type: 'adam' }, training: { batchSize: 8 } }));
  assert.equal('weightDecay' in plain.definition.optimizer, false);
  assert.equal('schedule' in plain.definition.optimizer, false);
});
