import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from '../testing/patience.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');
const main = join(here, '..', 'main.js');
const average = (text: string): number => Number(/average accuracy ([\d.]+)%/.exec(text)?.[1] ?? Number.NaN);

test("examples/predict.mjs (the README's plain-tfjs script) scores a task-incremental (multi-head) export as engram eval scores its checkpoint", () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-export-heads-'));
  const doc = JSON.parse(
    readFileSync(join(root, 'examples', 'split-mnist', 'task-il-naive.pipeline.json'), 'utf8'),
  ) as Record<string, unknown> & { data: Record<string, unknown> };
  delete doc['$schema'];
  doc.data['limitPerClass'] = 60;
  doc['training'] = { epochs: 1, batchSize: 32 };
  doc['checkpoint'] = { enabled: true };
  doc['backend'] = 'cpu';
  const file = join(dir, 'p.json');
  writeFileSync(file, JSON.stringify(doc));
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: patience(180_000), cwd: dir });
  const run = cli(['run', file, '--out', 'out', '--quiet']);
  assert.equal(run.status, 0, run.stderr);
  const exported = cli(['export', 'out', '--to', 'model', '--softmax', '--test-data', file]);
  assert.equal(exported.status, 0, exported.stderr);
  const meta = JSON.parse(readFileSync(join(dir, 'model', 'engram.json'), 'utf8')) as {
    heads?: Record<string, number[]>;
  };
  assert.deepEqual(
    meta.heads,
    { 0: [0, 1], 1: [2, 3], 2: [4, 5], 3: [6, 7], 4: [8, 9] },
    'the task classes of each head',
  );
  const evaluated = cli(['eval', file, '--checkpoint', 'out']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  for (const [command, stderr] of [
    ['run', run.stderr],
    ['export', exported.stderr],
    ['eval', evaluated.stderr],
  ]) {
    assert.doesNotMatch(
      stderr ?? '',
      /looks like you are running TensorFlow\.js/,
      `engram ${command} prints no tfjs banner`,
    );
  }
  const predicted = spawnSync(process.execPath, [join(root, 'examples', 'predict.mjs'), 'model/'], {
    encoding: 'utf8',
    timeout: patience(120_000),
    cwd: dir,
  });
  assert.equal(predicted.status, 0, predicted.stderr);
  const a = average(evaluated.stdout);
  const b = average(predicted.stdout);
  assert.ok(
    Number.isFinite(a) && a > 80,
    `engram eval ${a}% (multi-head scoring is well above a plain 10-way model's)`,
  );
  assert.ok(Math.abs(a - b) <= 0.3, `engram eval ${a}%, predict.mjs ${b}%`);
});
