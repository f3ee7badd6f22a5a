import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decodePng, type RgbaImage } from './png-decoder.js';
import { renderReport } from './render-report.js';
import { LAYOUT } from './report-html.js';
import { writeSyntheticRun } from './synthetic-run.js';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1200;
const HEIGHT = 3000;

/** Screenshots `file` with headless Chromium (no network, throw-away profile) and decodes the PNG. */
async function screenshot(file: string, workDir: string): Promise<RgbaImage> {
  const png = join(workDir, 'shot.png');
  await promisify(execFile)(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${join(workDir, 'profile')}`,
    `--screenshot=${png}`, `--window-size=${WIDTH},${HEIGHT}`, pathToFileURL(file).href,
  ], { timeout: 45_000 });
  return decodePng(readFileSync(png));
}

/** Pixels in rows [top, bottom) that are clearly coloured (chart marks), not white/grey/black text and axes. */
function colouredPixels(img: RgbaImage, top: number, bottom: number): number {
  let n = 0;
  for (let y = Math.max(0, top); y < Math.min(img.height, bottom); y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 4;
      const r = img.data[o] ?? 0, g = img.data[o + 1] ?? 0, b = img.data[o + 2] ?? 0;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
  }
  return n;
}

for (const mode of ['experiences', 'stream'] as const) {
  test(`headless Chromium draws every chart of a ${mode} report (coloured marks in each chart region)`, { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium to run the browser check`, timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-browser-'));
    try {
      await writeSyntheticRun(dir, mode);
      const html = readFileSync(await renderReport(dir), 'utf8');
      const ids = [...html.matchAll(/<section class="chart" data-chart="([^"]+)">/g)].map((m) => m[1]);
      assert.equal(ids.length, mode === 'stream' ? 2 : 4);
      const img = await screenshot(join(dir, 'report.html'), dir);
      assert.equal(img.width, WIDTH);
      assert.ok(img.height >= LAYOUT.HEADER_HEIGHT + ids.length * LAYOUT.SECTION_HEIGHT, `screenshot tall enough: ${img.height}`);
      ids.forEach((id, k) => {
        const top = LAYOUT.HEADER_HEIGHT + k * LAYOUT.SECTION_HEIGHT + LAYOUT.TITLE_HEIGHT;
        const n = colouredPixels(img, top, top + LAYOUT.SECTION_HEIGHT - LAYOUT.TITLE_HEIGHT);
        assert.ok(n > 500, `chart ${id} (section ${k}) shows coloured marks: ${n} coloured pixels`);
      });
      // Text-only regions (header, tables below the charts) have none: the measure tells charts from blanks.
      assert.equal(colouredPixels(img, 0, LAYOUT.HEADER_HEIGHT), 0);
      const end = LAYOUT.HEADER_HEIGHT + ids.length * LAYOUT.SECTION_HEIGHT;
      assert.equal(colouredPixels(img, end, end + 300), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
