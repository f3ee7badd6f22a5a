import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '@engram/core';
import { applyOverrides, parseOverride } from './pipeline-overrides.js';
import { patience } from './testing/patience.js';
import { syntheticPipeline } from './testing/synthetic-pipeline.js';

const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

test('--set takes a JSON pointer or a dotted path, and a JSON value or else a bare string', () => {
  assert.deepEqual(parseOverride('/training/epochs=3'), {
    pointer: '/training/epochs',
    value: 3,
    text: '/training/epochs=3',
  });
  assert.deepEqual(parseOverride('training.epochs=3').pointer, '/training/epochs');
  assert.deepEqual(parseOverride('strategy.0.lambda=1e3').value, 1000);
  assert.deepEqual(parseOverride('output.dir=runs/a=b').value, 'runs/a=b');
  assert.deepEqual(parseOverride('x=[1,"a",true]').value, [1, 'a', true]);
  assert.deepEqual(parseOverride('x="7"').value, '7');
  assert.deepEqual(parseOverride('x=null').value, null);
  assert.equal(parseOverride('/a~1b/c~0d=1').pointer, '/a~1b/c~0d');
  for (const bad of ['epochs', '=3', 'a..b=1', '/__proto__/x=1', 'constructor.prototype=1'])
    assert.throws(
      () => parseOverride(bad),
      (e: unknown) => e instanceof PipelineError && e.problems[0]?.path === '--set',
      bad,
    );
});

test('overrides apply in order, create missing objects, append to an array, and stop at a scalar with its pointer', () => {
  const doc = { training: { epochs: 1 }, strategy: [{ kind: 'ewc' }] } as Record<string, unknown>;
  applyOverrides(
    doc,
    [
      'training.epochs=2',
      '/training/epochs=4',
      'output.dir=runs/x',
      'strategy.1={"kind":"replay"}',
      'strategy.0.lambda=10',
    ].map(parseOverride),
    'p.json',
  );
  assert.deepEqual(doc, {
    training: { epochs: 4 },
    strategy: [{ kind: 'ewc', lambda: 10 }, { kind: 'replay' }],
    output: { dir: 'runs/x' },
  });
  assert.throws(
    () => applyOverrides(doc, [parseOverride('training.epochs.x=1')], 'p.json'),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.problems[0]?.path === '/training/epochs/x' &&
      /\/training\/epochs is number/.test(e.problems[0].message),
  );
  assert.throws(
    () => applyOverrides(doc, [parseOverride('strategy.5.kind=x')], 'p.json'),
    (e: unknown) => e instanceof PipelineError && /array of 2, no index 5/.test(e.message),
  );
});

function pipeline(dir: string): string {
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(syntheticPipeline({ name: 'sets', data: { samplesPerClass: 20 } })));
  return file;
}

const cli = (args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: patience(60_000) });

test('validate --set checks the changed document like the file: a bad value is exit 2 at its pointer, naming the flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-set-'));
  try {
    const file = pipeline(dir);
    const ok = cli(['validate', file, '--set', 'training.epochs=3', '--set', '/training/batchSize=8']);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = cli(['validate', file, '--set', 'training.epochs=zero']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^\s+\/training\/epochs: .*\(from --set training\.epochs=zero\)$/m);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    const typo = cli(['validate', file, '--set', 'training.epoch=3']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /\/training.*epoch/);
    const malformed = cli(['validate', file, '--set', 'training.epochs']);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /--set: "training\.epochs" is not path=value/);
    const through = cli(['validate', file, '--set', 'seed.x=1']);
    assert.equal(through.status, 2);
    assert.match(through.stderr, /\/seed\/x: --set seed\.x=1: \/seed is number, not an object or array/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --set trains with the overridden fields: the summary records them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-set-'));
  try {
    const file = pipeline(dir);
    const out = join(dir, 'out');
    const proc = cli([
      'run',
      file,
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=2',
      '--set',
      'seed=9',
      '--set',
      'name=renamed',
    ]);
    assert.equal(proc.status, 0, proc.stderr);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      name: string;
      seed: number;
      steps: number;
      pipeline: { training: { epochs: number } };
    };
    assert.equal(summary.name, 'renamed');
    assert.equal(summary.seed, 9);
    assert.equal(summary.pipeline.training.epochs, 2);
    // 2 experiences × 2 epochs × ceil(30 / 16) = 2 batches
    assert.equal(summary.steps, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
