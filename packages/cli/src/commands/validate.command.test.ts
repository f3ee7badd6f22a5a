import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

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
