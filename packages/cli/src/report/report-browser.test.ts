import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { renderComparison } from './render-comparison.js';
import { renderReport } from './render-report.js';
import { writeSyntheticRun } from './testing/synthetic-run.js';
import { patience } from '../testing/patience.js';

/** Debian's chromium (`apt-get install chromium`); puppeteer-core drives it and downloads nothing. */
const CHROMIUM = process.env['ENGRAM_CHROMIUM'] ?? '/usr/bin/chromium';
const WIDTH = 1400;

/** What the page reports about itself once vega has drawn every chart. */
interface Layout {
  views: number;
  pageWidth: number;
  viewport: number;
  charts: Array<{
    id: string;
    wide: boolean;
    figureWidth: number;
    right: number;
    svgWidth: number;
    svgHeight: number;
    marks: number;
  }>;
  smallestFont: number;
}

/** Opens `file` at 1400 px, fails on any console error, page error or request leaving file:, waits for vega. */
async function open(browser: Browser, file: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: WIDTH, height: 1000 });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${String(e)}`));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url().startsWith('file:')) return void r.continue();
    errors.push(`network request: ${r.url()}`);
    void r.abort();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: patience(30_000) });
  // Browser-side code is passed as text: this package compiles without the DOM library.
  await page.evaluate('Promise.all(Object.values(window.engramViews).map((v) => v.runAsync())).then(() => true)');
  return page;
}

/** Sizes of every chart as drawn, the page's width and the smallest chart text. */
function layout(page: Page): Promise<Layout> {
  return page.evaluate(`(() => {
    const charts = [...document.querySelectorAll('figure.chart')].map((f) => {
      const svg = f.querySelector('.vega svg');
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      const fig = f.getBoundingClientRect();
      return {
        id: f.getAttribute('data-chart'), wide: f.classList.contains('wide'), figureWidth: fig.width, right: fig.right,
        svgWidth: box.width, svgHeight: box.height, marks: svg ? svg.querySelectorAll('.role-mark path, .role-mark line').length : 0,
      };
    });
    const fonts = [...document.querySelectorAll('.vega svg text')].map((t) => parseFloat(getComputedStyle(t).fontSize)).filter((v) => v > 0);
    return {
      views: Object.keys(window.engramViews).length,
      pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth, charts, smallestFont: Math.min(...fonts),
    };
  })()`) as Promise<Layout>;
}

/**
 * Moves the pointer over the `index`-th element matching `selector` and returns the tooltip vega set (the `title` of
 * the chart's container).
 */
async function tooltipAt(page: Page, chart: string, selector: string, index = 0): Promise<string> {
  const items = await page.$$(`#chart-${chart} ${selector}`);
  const box = await items[index]?.boundingBox();
  assert.ok(box, `${chart}: ${selector} #${index} is drawn`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // vega's default tooltip handler puts the values in the title of the chart's container.
  const title =
    `(document.querySelector('#chart-${chart} [title]') || ` +
    `document.getElementById('chart-${chart}')).getAttribute('title') || ''`;
  await page.waitForFunction(title, { timeout: patience(5_000) });
  return page.evaluate(title) as Promise<string>;
}

/** Checks every chart is drawn at a readable size and the page fits the viewport; saves a screenshot. */
async function checkPage(t: TestContext, page: Page, shot: string, expected: string[]): Promise<Layout> {
  const l = await layout(page);
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);
  assert.deepEqual(
    l.charts.map((c) => c.id),
    expected,
  );
  assert.equal(l.views, expected.length, 'one vega view per chart');
  assert.equal(l.viewport, WIDTH);
  assert.ok(l.pageWidth <= l.viewport, `page ${l.pageWidth} px wide fits the ${l.viewport} px viewport`);
  for (const c of l.charts) {
    assert.ok(c.marks > 0, `${c.id}: vega drew marks`);
    assert.ok(c.svgHeight >= 150, `${c.id}: ${c.svgHeight} px tall`);
    // Line and bar charts fill their column (a wide one the page); the heatmap keeps square cells.
    if (c.id !== 'accuracy-matrix')
      assert.ok(c.svgWidth >= c.figureWidth * 0.85, `${c.id}: chart ${c.svgWidth} px in a ${c.figureWidth} px figure`);
    if (c.wide) assert.ok(c.figureWidth >= WIDTH * 0.9, `${c.id}: wide figure spans the page (${c.figureWidth} px)`);
    else
      assert.ok(c.figureWidth >= 560 && c.figureWidth <= WIDTH / 2, `${c.id}: half-page figure (${c.figureWidth} px)`);
  }
  assert.ok(Math.max(...l.charts.map((c) => c.right)) >= WIDTH * 0.95, "the charts use the page's full width");
  assert.ok(l.smallestFont >= 11, `chart text at least 11 px (smallest ${l.smallestFont} px)`);
  return l;
}

describe(
  'reports in a real browser (Debian chromium via puppeteer-core, 1400 px wide)',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: apt-get install chromium` },
  () => {
    let browser: Browser;
    let work: string;
    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'engram-report-browser-'));
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: join(work, 'profile'),
        timeout: patience(60_000),
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--hide-scrollbars',
        ],
      });
    });
    after(async () => {
      await browser?.close();
      // Screenshots and pages stay in `work` for a look (the test prints their paths); the profile goes.
      rmSync(join(work, 'profile'), { recursive: true, force: true });
    });

    it('an experience run report: four charts drawn by vega at page width, a tooltip on a heatmap cell, no console error', async (t) => {
      const dir = join(work, 'finite');
      mkdirSync(dir);
      await writeSyntheticRun(dir, 'experiences');
      const errors: string[] = [];
      const page = await open(browser, await renderReport(dir), errors);
      await checkPage(t, page, join(work, 'finite-report.png'), [
        'accuracy-matrix',
        'accuracy-over-time',
        'forgetting',
        'loss',
      ]);
      assert.match(
        await tooltipAt(page, 'accuracy-matrix', '.mark-rect.role-mark path'),
        /after training experience: 0\nevaluated on experience: 0\naccuracy \(%\): 95\.0/,
      );
      assert.match(
        await tooltipAt(page, 'forgetting', '.mark-rect.role-mark path', 0),
        /experience: 0\nforgetting \(% points\): 40\.0/,
      );
      assert.deepEqual(errors, []);
      await page.close();
    });

    it(
      'a stream run report: prequential accuracy and loss over samples at full width, a tooltip with the three ' +
        'series, no console error',
      async (t) => {
        const dir = join(work, 'stream');
        mkdirSync(dir);
        await writeSyntheticRun(dir, 'stream');
        const errors: string[] = [];
        const page = await open(browser, await renderReport(dir), errors);
        await checkPage(t, page, join(work, 'stream-report.png'), ['prequential', 'loss']);
        const tip = await tooltipAt(page, 'prequential', '.mark-line.role-mark path', 0);
        assert.match(
          tip,
          /samples seen: [\d,]+\ncumulative: \d{1,3}\.\d\nsliding window: \d{1,3}\.\d\nfading: \d{1,3}\.\d/,
        );
        assert.deepEqual(errors, []);
        await page.close();
      },
    );

    it('compare --html of an experience run and a stream run: readable charts, two to a row, no console error', async (t) => {
      await writeSyntheticRun(join(work, 'cmp-ewc'), 'experiences', 'ewc');
      await writeSyntheticRun(join(work, 'cmp-live'), 'stream', 'replay');
      const file = join(work, 'compare.html');
      await renderComparison([join(work, 'cmp-ewc'), join(work, 'cmp-live')], file);
      const errors: string[] = [];
      const page = await open(browser, file, errors);
      await checkPage(t, page, join(work, 'compare.png'), ['comparison', 'stream-comparison', 'run-0', 'run-1']);
      assert.deepEqual(errors, []);
      await page.close();
    });
  },
);
