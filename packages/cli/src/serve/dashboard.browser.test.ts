import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { spawnServed } from './testing/spawn-served.js';
import { patience } from '../testing/patience.js';

const CHROMIUM = '/usr/bin/chromium';

test(
  'the dashboard in headless Chromium charts a running stream live (≥ 3 updates), fetches nothing from elsewhere and logs no error',
  {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium to run the browser check`,
    timeout: patience(180_000),
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-dashboard-'));
    const pipeline = {
      name: 'dashboard-stream',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: {
        kind: 'synthetic',
        endless: true,
        numClasses: 3,
        features: 4,
        drift: 'abrupt',
        driftEvery: 2000,
        buffer: 256,
      },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      strategy: { kind: 'naive' },
      boundary: { kind: 'page-hinkley', threshold: 20 },
      training: { batchSize: 10, maxSamples: 2_000_000, logEvery: 20 },
      checkpoint: { enabled: false },
    };
    writeFileSync(join(dir, 'stream.pipeline.json'), JSON.stringify(pipeline));
    const server = await spawnServed([
      'run',
      join(dir, 'stream.pipeline.json'),
      '--out',
      join(dir, 'run'),
      '--quiet',
      '--serve',
      '127.0.0.1:0',
    ]);
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: join(dir, 'profile'),
      timeout: patience(60_000),
      args: [
        '--no-sandbox',
        '--disable-dev-shm-usage',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 1200 });
      const errors: string[] = [];
      const elsewhere: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!r.url().startsWith(server.base)) elsewhere.push(r.url());
      });
      await page.goto(`${server.base}/`, { waitUntil: 'load' });
      await page.waitForFunction('window.__engramChartUpdates >= 3', { timeout: patience(120_000), polling: 200 });
      const shot = join(dir, 'dashboard.png');
      await page.screenshot({ path: shot });
      assert.ok(statSync(shot).size > 10_000, 'a screenshot with content');
      const name = String(await page.evaluate("document.querySelector('#name')?.textContent ?? ''"));
      assert.match(name, /^dashboard-stream \(stream, /);
      const points = await page.evaluate('document.querySelectorAll("#accuracy canvas").length');
      assert.equal(points, 1, 'the accuracy chart is drawn on a canvas');
      assert.deepEqual(errors, [], `page errors: ${errors.join(' | ')}`);
      assert.deepEqual(elsewhere, [], 'no network asset');
    } finally {
      await browser.close();
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
