import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable, renderComparison } from './render-comparison.js';
import { writeSyntheticRun } from './synthetic-run.js';

test('compare prints one row per run with strategy, scenario, ACC, BWT, FWT, forgetting and time', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'ewc-run'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'replay-run'), 'experiences', 'replay');
  const table = await renderComparison([join(root, 'ewc-run'), join(root, 'replay-run')]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? '', /^run\s+strategy\s+scenario\s+ACC\s+BWT\s+FWT\s+forgetting\s+time$/);
  assert.match(lines[2] ?? '', /^ewc-run\s+ewc\s+split-mnist\s+0\.7200\s+-0\.3000\s+-0\.0350\s+0\.3000\s+2\.6 s$/);
  assert.match(lines[3] ?? '', /^replay-run\s+replay\s+/);
  rmSync(root, { recursive: true });
});

test('compare --html writes a self-contained page with the combined chart and one chart per run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'a'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'b'), 'experiences', 'lwf');
  const file = join(root, 'compare.html');
  await renderComparison([join(root, 'a'), join(root, 'b')], file);
  const html = readFileSync(file, 'utf8');
  const combined = /data-chart="comparison">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
  assert.equal([...combined.matchAll(/aria-roledescription="line mark"/g)].length, 2, 'one line per run');
  assert.equal([...html.matchAll(/<div class="run" data-run=/g)].length, 2);
  assert.equal([...html.matchAll(/<svg/g)].length, 3);
  assert.ok(!html.includes('<script'));
  rmSync(root, { recursive: true });
});

test('compare without directories or with a non-run directory fails with a clear message', async () => {
  await assert.rejects(renderComparison([]), /at least one run directory/);
  const empty = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await assert.rejects(renderComparison([empty]), /summary\.json not found/);
  rmSync(empty, { recursive: true });
});

test('numeric columns and their headers are right-aligned, text columns left-aligned', () => {
  assert.equal(formatTable(['name', 'ACC'], [['a', '0.5'], ['long', '0.25']]), 'name   ACC\n----  ----\na      0.5\nlong  0.25');
});

test('compare --html shows a stream run by its prequential accuracy, not "no evaluations"', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'batch'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'live'), 'stream');
  const file = join(root, 'compare.html');
  await renderComparison([join(root, 'batch'), join(root, 'live')], file);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /no evaluations/);
  const live = /<div class="run" data-run="live[^"]*">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  assert.match(live, /prequential accuracy/);
  assert.equal([...live.matchAll(/aria-roledescription="line mark"/g)].length, 3, 'cumulative, window and fading');
  rmSync(root, { recursive: true });
});
