import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { chartGrid, escapeHtml, page } from '../report/chart-page.js';
import { CHART_HEIGHT } from '../report/chart-specs.js';
import type { SweepResults } from './sweep-results.js';

/** The sweep's report file in its output folder. */
export const SWEEP_REPORT = 'report.html';

/**
 * The metric over one swept value: a point per combination and a line through the mean per value.
 * Numeric values get a quantitative axis (logarithmic when they are positive and span over 100×);
 * others an ordinal one.
 */
export function sweepChartSpec(results: SweepResults, pointer: string): TopLevelSpec {
  const values = results.combinations
    .filter((c) => c.value !== null)
    .map((c) => ({ value: c.overrides[pointer], metric: c.value, combination: c.name }));
  const numbers = values.map((v) => v.value).filter((v): v is number => typeof v === 'number');
  const numeric = numbers.length === values.length && values.length > 0;
  const log = numeric && Math.min(...numbers) > 0 && Math.max(...numbers) / Math.min(...numbers) > 100;
  const x = numeric
    ? {
        field: 'value',
        type: 'quantitative' as const,
        title: pointer,
        scale: log ? { type: 'log' as const } : { zero: false },
      }
    : { field: 'label', type: 'ordinal' as const, title: pointer, axis: { labelAngle: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `${results.metric} over ${pointer}`,
    data: { values: values.map((v) => ({ ...v, label: JSON.stringify(v.value) })) },
    width: 'container',
    height: CHART_HEIGHT,
    layer: [
      {
        mark: { type: 'line', color: '#4c78a8' },
        encoding: { x, y: { aggregate: 'mean', field: 'metric', type: 'quantitative', title: results.metric } },
      },
      {
        mark: { type: 'point', filled: true, size: 60, color: '#e45756' },
        encoding: {
          x,
          y: { field: 'metric', type: 'quantitative', title: results.metric },
          tooltip: [{ field: 'combination' }, { field: 'metric', format: '.4f' }],
        },
      },
    ],
  };
}

/** Writes `DIR/report.html`: the ranked table and one chart of the metric per swept pointer (drawn by vega, with tooltips). */
export async function renderSweepReport(outDir: string, results: SweepResults): Promise<string> {
  const charts = results.pointers.map((pointer, k) => ({
    id: `sweep-${k}`,
    title: `${results.metric} over ${pointer}`,
    note: 'a point per combination, the line through the mean per value',
    spec: sweepChartSpec(results, pointer),
    data: { pointer },
  }));
  const body =
    `<header><h1>Sweep ${escapeHtml(results.name)}</h1><p class="run-meta">ranked by ` +
    `<b>${escapeHtml(results.metric)}</b> (${results.goal === 'max' ? 'highest' : 'lowest'} first) · base pipeline ` +
    `${escapeHtml(results.pipeline)}</p></header>` +
    `<pre class="ranking">${escapeHtml(results.table)}</pre>\n${await chartGrid(charts)}`;
  const file = join(outDir, SWEEP_REPORT);
  await writeFile(file, page(`${results.name} — engram sweep`, body), 'utf8');
  return file;
}
