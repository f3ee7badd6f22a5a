import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from './render-report.js';
import { figure, figures, kpiCards, rows, svgMarks } from './testing/report-page.js';
import { writeSyntheticRun, type SyntheticRunOptions } from './testing/synthetic-run.js';

/** Renders the report of a synthetic run and returns its HTML. */
async function report(mode: 'experiences' | 'stream', options: SyntheticRunOptions = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  try {
    await writeSyntheticRun(dir, mode, 'ewc', options);
    const path = await renderReport(dir);
    assert.equal(path, join(dir, 'report.html'));
    return readFileSync(path, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tooltip encodings of a compiled vega spec (any mark, any depth). */
const tooltips = (spec: unknown): number => (JSON.stringify(spec).match(/"tooltip":\{/g) ?? []).length;

test(
  'an experience run report draws the matrix, accuracy over time, forgetting and loss with vega, each with ' +
    'tooltips and a static SVG',
  async () => {
    const html = await report('experiences');
    assert.deepEqual(
      figures(html).map((f) => f.id),
      ['accuracy-matrix', 'accuracy-over-time', 'forgetting', 'loss'],
    );
    for (const f of figures(html)) {
      assert.ok(tooltips(f.spec) > 0, `${f.id} has tooltips`);
      assert.match(f.svg, /<svg[^>]*class="marks"/, `${f.id} has a static svg`);
    }
    // The heatmap's cells are R in percent: 3×3, R[0][0] = 95, R[2][0] = 55, R[2][2] = 89.
    const heat = figure(html, 'accuracy-matrix');
    const cells = rows(heat).filter((r) => typeof r['accuracy'] === 'number');
    assert.equal(cells.length, 9);
    const at = (i: number, j: number): unknown =>
      cells.find((c) => c['after'] === i && c['experience'] === j)?.['accuracy'];
    assert.equal(at(0, 0), 95);
    assert.ok(Math.abs((at(2, 0) as number) - 55) < 1e-9);
    assert.ok(Math.abs((at(2, 2) as number) - 89) < 1e-9);
    assert.equal(svgMarks(heat, 'rect mark'), 9);
    assert.ok(heat.svg.includes('>95.0<'), 'cells are labelled in percent');
    // Lines and bars follow the page width; 3 lines (one per evaluated experience, named plainly), 2 forgetting bars.
    const over = figure(html, 'accuracy-over-time');
    assert.match(JSON.stringify(over.spec), /containerSize\(\)/, 'width follows the page');
    assert.deepEqual([...new Set(rows(over).map((r) => r['experience']))].filter((v) => v !== undefined).sort(), [
      'experience 0',
      'experience 1',
      'experience 2',
    ]);
    assert.equal(svgMarks(over, 'line mark'), 3);
    assert.equal(svgMarks(figure(html, 'forgetting'), 'bar'), 2);
    assert.deepEqual(
      rows(figure(html, 'forgetting')).map((r) => [r['experience'], Number((r['forgetting'] as number).toFixed(3))]),
      [
        [0, 40],
        [1, 20],
      ],
    );
    // Self-contained: vega's runtime inline, no external resource.
    assert.match(html, /<script>[^<]*\bvega\b/);
    assert.ok(html.includes('window.engramViews'), 'the page draws its charts with vega');
    assert.doesNotMatch(html, /<script[^>]+src=|<link|(src|href)="https?:/);
    assert.match(html, /<h1>synthetic-experiences<\/h1>/);
    assert.match(html, /strategy <b>ewc<\/b> · scenario <b>split-mnist<\/b> · backend <b>cpu<\/b> · seed <b>3<\/b>/);
  },
);

test('the header shows ACC, BWT, FWT, forgetting and the experiences trained from summary.json', async () => {
  // R = [[.95,.12,.14],[.75,.92,.14],[.55,.72,.89]]: ACC .72, BWT -.30, FWT (.12-.16 + .14-.17)/2 = -.035
  const cards = kpiCards(await report('experiences'));
  assert.equal(cards.get('ACC'), '72.0%');
  assert.equal(cards.get('BWT'), '-30.0%');
  assert.equal(cards.get('FWT'), '-3.5%');
  assert.equal(cards.get('forgetting'), '30.0%');
  assert.equal(cards.get('experiences'), '3 of 3');
  assert.equal(cards.get('wall time'), '2.6 s');
  assert.equal(cards.get('steps'), '60');
});

test('a stream run report shows prequential accuracy over samples with the drift boundaries, and stream figures in its cards', async () => {
  const html = await report('stream', { badRecords: 7 });
  assert.deepEqual(
    figures(html).map((f) => f.id),
    ['prequential', 'loss'],
  );
  const cards = kpiCards(html);
  for (const name of ['ACC', 'BWT', 'FWT', 'forgetting', 'learning acc.'])
    assert.equal(cards.has(name), false, `no ${name} card`);
  for (const [name, value] of cards) assert.notEqual(value, '—', `${name} has a value`);
  assert.equal(cards.get('samples'), '4,800');
  assert.equal(cards.get('drift boundaries'), '2');
  assert.equal(cards.get('bad records'), '7');
  assert.match(cards.get('prequential acc.') ?? '', /^\d{1,3}\.\d%$/);
  assert.match(cards.get('fading acc.') ?? '', /^\d{1,3}\.\d%$/);
  const pre = figure(html, 'prequential');
  // Plain legend names, x = samples seen (16 per step), drift rules at 1,600 and 3,200 samples.
  const series = new Set(
    rows(pre)
      .map((r) => r['series'])
      .filter((v) => v !== undefined),
  );
  assert.deepEqual([...series].sort(), ['cumulative', 'fading', 'sliding window']);
  assert.doesNotMatch(html, /fadingAccuracy|windowAccuracy/);
  assert.equal(
    Math.max(
      ...rows(pre).map((r) => (typeof r['samples'] === 'number' && r['series'] !== undefined ? r['samples'] : 0)),
    ),
    4800,
  );
  assert.deepEqual(
    rows(pre)
      .filter((r) => r['reason'] !== undefined)
      .map((r) => r['samples']),
    [1600, 3200],
  );
  assert.equal(svgMarks(pre, 'line mark'), 3, 'cumulative, window and fading');
  assert.equal((pre.svg.match(/stroke="#d62728"/g) ?? []).length, 2, 'two drift markers (red dashed rules)');
  assert.match(JSON.stringify(pre.spec), /samples seen/);
  // The loss is drawn over samples too, with the boundaries; the boundaries are listed below.
  const loss = figure(html, 'loss');
  assert.equal(Math.max(...rows(loss).map((r) => (typeof r['x'] === 'number' ? r['x'] : 0))), 4800);
  assert.match(
    html,
    /<h3>Drift boundaries<\/h3>[\s\S]*<td>1<\/td><td>1,600<\/td><td>99<\/td><td class="text">page-hinkley drift<\/td>/,
  );
});

test("a stopped run's heatmap has only the rows that ran, and the page says the run stopped and how to continue", async () => {
  const html = await report('experiences', { stopAfter: 2 });
  const heat = figure(html, 'accuracy-matrix');
  assert.deepEqual([...new Set(rows(heat).map((r) => r['after']))].sort(), [0, 1]);
  assert.equal(svgMarks(heat, 'rect mark'), 6, '2 rows × 3 evaluated experiences');
  assert.match(
    html,
    /<p class="status stopped"><b>This run was stopped by SIGINT<\/b> after 2 of 3 experiences; it is resumable with <code>--resume<\/code>/,
  );
  const cards = kpiCards(html);
  assert.equal(cards.has('ACC'), false, 'no headline figure for a stopped run');
  assert.equal(cards.get('experiences'), '2 of 3');
  // Square cells: the heatmap's width and height both step by the same cell size.
  const sizes = JSON.stringify(heat.spec).match(/"name":"(x|y)_step","value":(\d+)/g) ?? [];
  assert.equal(sizes.length, 2, JSON.stringify(sizes));
  assert.equal(sizes[0]?.split(':').pop(), sizes[1]?.split(':').pop());
});

test('a missing or corrupt run directory gives a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-report-'));
  await assert.rejects(renderReport(dir), /summary\.json not found: is .* the --out directory of an engram run\?/);
  await writeSyntheticRun(dir, 'experiences');
  writeFileSync(join(dir, 'metrics.jsonl'), '{"type":"warning","seq":0,"time":0,"message":"x"}\n{oops\n');
  await assert.rejects(renderReport(dir), /metrics\.jsonl line 2 is not valid JSON/);
  rmSync(dir, { recursive: true });
});

test('a run with a validation split gets per-epoch validation loss and accuracy charts, early stops marked', async () => {
  const html = await report('experiences', { validation: true });
  const ids = figures(html).map((f) => f.id);
  assert.deepEqual(ids.slice(-2), ['validation-loss', 'validation-accuracy']);
  const loss = figure(html, 'validation-loss');
  // experiences 0 and 2 ran 2 epochs, experience 1 stopped after its first: 5 points, numbered over the run
  const points = rows(loss).filter((r) => typeof r['value'] === 'number' && r['index'] !== undefined);
  const line = points.filter((r) => r['stoppedEarly'] !== undefined);
  assert.deepEqual(
    [...new Map(line.map((r) => [r['index'], r['value']])).entries()].map(([i, v]) => [
      i,
      Number((v as number).toFixed(3)),
    ]),
    [
      [0, 0.6],
      [1, 0.55],
      [2, 0.7],
      [3, 0.8],
      [4, 0.75],
    ],
  );
  assert.equal(line.filter((r) => r['stoppedEarly'] === true).length > 0, true);
  assert.match(loss.svg, /<svg[^>]*class="marks"/);
});
