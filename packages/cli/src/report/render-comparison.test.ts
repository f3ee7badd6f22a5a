import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable, renderComparison } from './render-comparison.js';
import { figure, figures, rows, svgMarks } from './testing/report-page.js';
import { writeSyntheticRun } from './testing/synthetic-run.js';

test('compare prints one row per run with strategy, scenario, ACC, BWT, FWT, forgetting and time', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'ewc-run'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'replay-run'), 'experiences', 'replay');
  const table = await renderComparison([join(root, 'ewc-run'), join(root, 'replay-run')]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? '', /^run\s+strategy\s+scenario\s+ACC\s+BWT\s+FWT\s+forgetting\s+time$/);
  assert.match(lines[2] ?? '', /^ewc-run\s+ewc\s+split-mnist\s+72\.0%\s+-30\.0%\s+-3\.5%\s+30\.0%\s+2\.6 s$/);
  assert.match(lines[3] ?? '', /^replay-run\s+replay\s+/);
  rmSync(root, { recursive: true });
});

test('compare --html writes a self-contained page: the table, the runs in one chart, and one readable chart per run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'a'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'b'), 'experiences', 'lwf');
  const file = join(root, 'compare.html');
  await renderComparison([join(root, 'a'), join(root, 'b')], file);
  const html = readFileSync(file, 'utf8');
  assert.deepEqual(
    figures(html).map((f) => f.id),
    ['comparison', 'run-0', 'run-1'],
  );
  const combined = figure(html, 'comparison');
  assert.equal(svgMarks(combined, 'line mark'), 2, 'one line per run');
  // mean accuracy (%) on seen experiences of run a: 95, (75+92)/2, 72
  const a = rows(combined)
    .filter((r) => r['run'] === 'a (ewc)')
    .map((r) => Number((r['accuracy'] as number).toFixed(1)));
  assert.deepEqual(a, [95, 83.5, 72]);
  for (const f of figures(html)) {
    assert.match(JSON.stringify(f.spec), /containerSize\(\)/, `${f.id} is as wide as its column`);
    assert.match(
      JSON.stringify(f.spec),
      /"labelFontSize":12/,
      `${f.id} keeps 12 px labels (drawn at its size, not scaled down)`,
    );
  }
  assert.match(html, /<h2>a \(ewc\)<\/h2>/);
  assert.doesNotMatch(html, /<script[^>]+src=|<link|(src|href)="https?:/);
  rmSync(root, { recursive: true });
});

test('compare shows a stream run by its prequential accuracy, in the table and in a chart of the stream runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'batch'), 'experiences', 'ewc');
  await writeSyntheticRun(join(root, 'live'), 'stream');
  const file = join(root, 'compare.html');
  const table = await renderComparison([join(root, 'batch'), join(root, 'live')], file).then((t) => t.split('\n'));
  assert.match(
    table[0] ?? '',
    /^run\s+strategy\s+scenario\s+ACC\s+BWT\s+FWT\s+forgetting\s+preq\. acc\s+samples\s+time$/,
  );
  assert.match(table[2] ?? '', /^batch\s+ewc\s+split-mnist\s+72\.0%\s+.*\s+—\s+—\s+2\.6 s$/);
  assert.match(table[3] ?? '', /^live\s+ewc\s+drifting-stream\s+—\s+—\s+—\s+—\s+\d{1,3}\.\d%\s+4800\s+3\.0 s$/);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /no evaluations/);
  assert.deepEqual(
    figures(html).map((f) => f.id),
    ['comparison', 'stream-comparison', 'run-0', 'run-1'],
  );
  assert.deepEqual(
    [...new Set(rows(figure(html, 'comparison')).map((r) => r['run']))],
    ['batch (ewc)'],
    'the stream is not in the experience chart',
  );
  const stream = figure(html, 'stream-comparison');
  assert.deepEqual([...new Set(rows(stream).map((r) => r['run']))], ['live (ewc)']);
  assert.equal(Math.max(...rows(stream).map((r) => r['samples'] as number)), 4800);
  const live = figure(html, 'run-1');
  assert.equal(svgMarks(live, 'line mark'), 3, 'cumulative, window and fading');
  assert.equal((live.svg.match(/stroke="#d62728"/g) ?? []).length, 2, 'two drift markers (red dashed rules)');
  rmSync(root, { recursive: true });
});

test("compare gives a run the wall time of all its processes, and names a stopped run's status", async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await writeSyntheticRun(join(root, 'done'), 'experiences');
  await writeSyntheticRun(join(root, 'halted'), 'experiences', 'ewc', { stopAfter: 2 });
  // A summary written before resumed runs added up their time: the last process took 0.0 s, its experiences 2.4 s.
  const summaryFile = join(root, 'done', 'summary.json');
  writeFileSync(summaryFile, JSON.stringify({ ...JSON.parse(readFileSync(summaryFile, 'utf8')), wallSeconds: 0 }));
  const lines = (await renderComparison([join(root, 'done'), join(root, 'halted')])).split('\n');
  assert.match(lines[0] ?? '', /\s+time\s+status$/);
  assert.match(lines[2] ?? '', /^done\s.*\s2\.4 s\s+completed$/);
  assert.match(lines[3] ?? '', /^halted\s+ewc\s+split-mnist\s+—\s+—\s+—\s+—\s+1\.7 s\s+stopped \(SIGINT\)$/);
  rmSync(root, { recursive: true });
});

test('compare without directories or with a non-run directory fails with a clear message', async () => {
  await assert.rejects(renderComparison([]), /at least one run directory/);
  const empty = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  await assert.rejects(renderComparison([empty]), /summary\.json not found/);
  rmSync(empty, { recursive: true });
});

test('numeric columns and their headers are right-aligned, text columns left-aligned', () => {
  assert.equal(
    formatTable(
      ['name', 'ACC'],
      [
        ['a', '0.5'],
        ['long', '0.25'],
      ],
    ),
    'name   ACC\n----  ----\na      0.5\nlong  0.25',
  );
});
