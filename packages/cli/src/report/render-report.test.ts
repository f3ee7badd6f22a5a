import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from './render-report.js';
import { writeSyntheticRun } from './synthetic-run.js';

/** The `<section class="chart" data-chart=ID>` blocks of a report, by id. */
function sections(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<section class="chart" data-chart="([^"]+)">([\s\S]*?)<\/section>/g)) out.set(m[1] ?? '', m[2] ?? '');
  return out;
}

const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;

test('an experience run report has the four charts, each an inline SVG with data marks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  await writeSyntheticRun(dir, 'experiences');
  const path = await renderReport(dir);
  assert.equal(path, join(dir, 'report.html'));
  const html = readFileSync(path, 'utf8');
  const s = sections(html);
  assert.deepEqual([...s.keys()], ['accuracy-matrix', 'accuracy-over-time', 'forgetting', 'loss']);
  for (const [id, body] of s) assert.match(body, /<svg[^>]*class="marks"/, `${id} has an svg`);
  // 3×3 matrix = 9 coloured cells, each with a value label.
  const heat = s.get('accuracy-matrix') ?? '';
  assert.equal(count(heat, /aria-roledescription="rect mark"/g), 9, 'heatmap cells');
  assert.ok(heat.includes('>0.95<'), 'heatmap labels R[0][0] = 0.95');
  // one line per evaluated experience
  assert.equal(count(s.get('accuracy-over-time') ?? '', /aria-roledescription="line mark"/g), 3);
  // forgetting bars for experiences 0 and 1 (the last has none)
  assert.equal(count(s.get('forgetting') ?? '', /aria-roledescription="bar"/g), 2);
  assert.equal(count(s.get('loss') ?? '', /aria-roledescription="line mark"/g), 1);
  assert.ok(!html.includes('<script'), 'no scripts');
  assert.ok(!/(src|href)="https?:/.test(html), 'no external resources');
  assert.match(html, /<h1>synthetic-experiences<\/h1>/);
  assert.match(html, /strategy <b>ewc<\/b> · scenario <b>split-mnist<\/b> · backend <b>cpu<\/b> · seed <b>3<\/b>/);
  rmSync(dir, { recursive: true });
});

test('the header shows ACC, BWT, FWT and forgetting from summary.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  const summary = await writeSyntheticRun(dir, 'experiences');
  const html = readFileSync(await renderReport(dir), 'utf8');
  // R = [[.95,.12,.14],[.75,.92,.14],[.55,.72,.89]]: ACC .72, BWT -.30, FWT (.12-.16 + .14-.17)/2 = -.035
  assert.ok(Math.abs((summary.averageAccuracy ?? NaN) - 0.72) < 1e-9);
  assert.ok(Math.abs((summary.bwt ?? NaN) + 0.3) < 1e-9);
  assert.ok(Math.abs((summary.fwt ?? NaN) + 0.035) < 1e-9);
  assert.match(html, /<span>ACC<\/span><b>0\.720<\/b>/);
  assert.match(html, /<span>BWT<\/span><b>-0\.300<\/b>/);
  assert.match(html, /<span>FWT<\/span><b>-0\.035<\/b>/);
  assert.match(html, /<span>forgetting<\/span><b>0\.300<\/b>/);
  rmSync(dir, { recursive: true });
});

test('a stream run report shows prequential accuracy with one marker per drift point', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  await writeSyntheticRun(dir, 'stream');
  const html = readFileSync(await renderReport(dir), 'utf8');
  const s = sections(html);
  assert.deepEqual([...s.keys()], ['loss', 'prequential']);
  // Stream figures, not empty experience-run cards; readable legend names.
  assert.doesNotMatch(html, /<span>(ACC|BWT|FWT)<\/span>/);
  assert.match(html, /<span>fading acc\.<\/span><b>0\.\d{3}<\/b>/);
  assert.match(html, /sliding window/);
  assert.doesNotMatch(html, />fadingAccuracy</);
  const pre = s.get('prequential') ?? '';
  assert.equal(count(pre, /aria-roledescription="line mark"/g), 3, 'cumulative, window and fading');
  assert.equal(count(pre, /aria-roledescription="rule mark"/g), 2, 'two drift markers');
  rmSync(dir, { recursive: true });
});

test('a missing or corrupt run directory gives a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  await assert.rejects(renderReport(dir), /summary\.json not found: is .* the --out directory of an engram run\?/);
  await writeSyntheticRun(dir, 'experiences');
  writeFileSync(join(dir, 'metrics.jsonl'), '{"type":"warning","seq":0,"time":0,"message":"x"}\n{oops\n');
  await assert.rejects(renderReport(dir), /metrics\.jsonl line 2 is not valid JSON/);
  rmSync(dir, { recursive: true });
});
