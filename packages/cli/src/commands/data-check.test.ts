import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');
const main = join(here, '..', 'main.js');

function engram(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** The quickstart pipeline with another `data` section, written into `dir` under `name`. */
function pipelineWith(dir: string, name: string, data: Record<string, unknown>): string {
  const doc = JSON.parse(readFileSync(join(root, 'examples', 'quickstart.pipeline.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete doc['$schema'];
  const file = join(dir, `${name}.pipeline.json`);
  writeFileSync(file, JSON.stringify({ ...doc, data }));
  return file;
}

test('validate finds a missing file, folder or column of every file source at its /data pointer, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-datacheck-'));
  writeFileSync(join(dir, 'rows.csv'), 'a,b,label\n1,2,0\n');
  writeFileSync(join(dir, 'rows.jsonl'), '{"x":[1,2],"y":0}\n');
  mkdirSync(join(dir, 'images', 'cat'), { recursive: true });
  mkdirSync(join(dir, 'images', 'dog'), { recursive: true });
  writeFileSync(join(dir, 'images', 'cat', '0.png'), '');
  const files = [
    pipelineWith(dir, 'csv-missing', { kind: 'csv', path: 'nope.csv' }),
    pipelineWith(dir, 'csv-column', { kind: 'csv', path: 'rows.csv', labelColumn: 'target', featureColumns: ['a', 7] }),
    pipelineWith(dir, 'jsonl-field', { kind: 'jsonl', path: 'rows.jsonl', labelField: 'label' }),
    pipelineWith(dir, 'idx', { kind: 'idx', trainImages: 'x.idx', trainLabels: 'y.idx' }),
    pipelineWith(dir, 'npy', { kind: 'npy', x: 'x.npy', y: 'y.npy' }),
    pipelineWith(dir, 'images-empty', { kind: 'image-folder', root: 'images' }),
    pipelineWith(dir, 'images-missing', { kind: 'image-folder', root: 'photos' }),
    pipelineWith(dir, 'fmnist', { kind: 'fashion-mnist', dir: 'fmnist' }),
  ];
  const r = engram(['validate', ...files]);
  assert.equal(r.status, 2, r.out);
  for (const expected of [
    /\/data\/path: no such file: .*nope\.csv/,
    /\/data\/labelColumn: rows\.csv has no column "target" \(its header: a, b, label\)/,
    /\/data\/featureColumns\/1: column 7 is past the 3 columns of rows\.csv/,
    /\/data\/labelField: the first record of rows\.jsonl has no field "label"/,
    /\/data\/trainImages: no such file: .*x\.idx/,
    /\/data\/trainLabels: no such file: .*y\.idx/,
    /\/data\/x: no such file: .*x\.npy/,
    /\/data\/root: class folder .*images\/dog holds no image/,
    /\/data\/root: no such folder: .*photos/,
    /\/data\/dir: no such folder: .*fmnist/,
  ])
    assert.match(r.out, expected);
  assert.doesNotMatch(r.out, /csv-column.*featureColumns\/0/);
  assert.doesNotMatch(r.out, /\bat .*\.js:\d+/);
  // `run` refuses the same document before it trains, with the same line.
  const run = engram(['run', files[0] as string, '--out', join(dir, 'out')]);
  assert.equal(run.status, 2, run.out);
  assert.match(run.out, /\/data\/path: no such file: .*nope\.csv/);
});
