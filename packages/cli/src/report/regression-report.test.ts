import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { formatOutcome } from '../output/matrix-table.js';
import { renderReport } from './render-report.js';
import { figure, figures, kpiCards, rows } from './testing/report-page.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');

test('a regression run reports its MAE matrix, error forgetting and MAE/RMSE figures instead of accuracy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-regression-report-'));
  try {
    const doc = {
      name: 'regression-report',
      task: 'regression',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'drifting-regression', experiences: 3, samplesPerExperience: 120 },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      strategy: { kind: 'naive' },
      training: { epochs: 3, batchSize: 20, loss: 'huber', huberDelta: 0.5 },
      checkpoint: { enabled: false },
    };
    const loaded = await preparePipeline(doc, join(root, 'r.pipeline.json'), {
      resolveFrom: [here],
      builtins: [corePlugin],
    });
    const { summary } = await runPipeline(loaded, { outDir: dir });
    const e = summary.errors;
    assert.ok(e);
    const html = readFileSync(await renderReport(dir), 'utf8');
    assert.deepEqual(
      figures(html).map((f) => f.id),
      ['mae-matrix', 'forgetting', 'loss'],
    );
    // the heatmap's cells are the summary's MAE matrix, 3 × 3
    const cells = rows(figure(html, 'mae-matrix')).filter((r) => typeof r['mae'] === 'number');
    assert.equal(cells.length, 9);
    for (const c of cells) assert.equal(c['mae'], e.maeMatrix[c['after'] as number]?.[c['experience'] as number]);
    const bars = rows(figure(html, 'forgetting'));
    assert.deepEqual(
      bars.map((b) => b['forgetting']),
      e.forgettingPerExperience.filter((f) => f !== null),
    );
    const cards = kpiCards(html);
    assert.equal(cards.get('MAE'), (e.averageMae ?? NaN).toFixed(4));
    assert.equal(cards.get('RMSE'), (e.averageRmse ?? NaN).toFixed(4));
    assert.equal(cards.has('ACC'), false);
    // the CLI's final table speaks MAE too
    const text = formatOutcome(summary, undefined);
    assert.match(text, /^MAE matrix, target units/m);
    assert.match(text, new RegExp(`^MAE ${(e.averageMae ?? NaN).toFixed(4)}   RMSE `, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
