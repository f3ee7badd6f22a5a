import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from '../testing/patience.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

function pipeline(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'p.json');
  writeFileSync(
    file,
    JSON.stringify(syntheticPipeline({ name: 'outs', checkpoint: { everyBatches: 2, keep: 2 }, ...extra })),
  );
  return file;
}

const run = (args: string[]) =>
  spawnSync(process.execPath, [main, 'run', ...args], { encoding: 'utf8', timeout: patience(60_000) });

test('an output or checkpoint folder that cannot be written (under /proc, or a file) fails at start with exit 1 and one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-outs-'));
  const file = pipeline(dir);
  const proc = run([file, '--out', '/proc/engram-nowhere', '--quiet']);
  assert.equal(proc.status, 1, proc.stderr);
  assert.match(proc.stderr, /^error: cannot create folder \/proc\/engram-nowhere: ENOENT\n/);
  writeFileSync(join(dir, 'a-file'), 'x');
  const ck = run([pipeline(dir, { checkpoint: { dir: 'a-file/ck' } }), '--out', join(dir, 'o'), '--quiet']);
  assert.equal(ck.status, 1, ck.stderr);
  assert.match(ck.stderr, /^error: cannot create folder .*a-file\/ck: ENOTDIR\n$/);
  assert.equal(existsSync(join(dir, 'o', 'metrics.jsonl')), false, 'nothing ran');
});

test('a run without --resume into a folder holding checkpoints refuses, and --overwrite starts afresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-outs-'));
  const file = pipeline(dir);
  const out = join(dir, 'out');
  const first = run([file, '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^outputs in ${out}\\n`));
  const before = readdirSync(join(out, 'checkpoints'));
  const again = run([file, '--out', out, '--quiet']);
  assert.equal(again.status, 2);
  assert.match(
    again.stderr,
    /holds 2 checkpoint\(s\) of an earlier run; continue it with --resume, or start afresh with --overwrite/,
  );
  assert.deepEqual(readdirSync(join(out, 'checkpoints')), before, 'the checkpoints are untouched');
  const overwrite = run([file, '--out', out, '--quiet', '--overwrite']);
  assert.equal(overwrite.status, 0, overwrite.stderr);
});

test('a run whose stdout reader goes away (| head -2) still finishes and writes summary.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-outs-'));
  const out = join(dir, 'out');
  const child = spawn(process.execPath, [main, 'run', pipeline(dir), '--out', out, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  child.stdout.on('data', (b: Buffer) => {
    lines += b.toString().split('\n').length - 1;
    if (lines >= 2) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.ok(existsSync(join(out, 'summary.json')), 'summary.json written');
});
