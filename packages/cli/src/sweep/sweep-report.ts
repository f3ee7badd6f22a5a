import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { chartGrid, escapeHtml, page } from '../report/chart-page.js';
import { CHART_HEIGHT } from '../report/chart-specs.js';
import { resultsRows, type SweepResults } from './sweep-results.js';

/** The sweep's report file in its output folder. */
export const SWEEP_REPORT = 'report.html';

/**
 * The metric (in percent) over one swept value: a point per combination (coloured by seed when seeds
 * were swept), a line through the mean per value and, over seeds, a bar of ± one standard deviation.
 * Numeric values get a quantitative axis (logarithmic when they are positive and span over 100×);
 * others an ordinal one. Seed pointers get no chart of their own: a seed is not a scale.
 */
export function sweepChartSpec(results: SweepResults, pointer: string): TopLevelSpec {
  const seeds = results.seedPointers ?? [];
  const values = results.combinations
    .filter((c) => c.value !== null)
    .map((c) => ({
      value: c.overrides[pointer],
      metric: (c.value as number) * 100,
      combination: c.name,
      seed: seeds.map((p) => JSON.stringify(c.overrides[p])).join(', '),
    }));
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
        encoding: {
          x,
          y: { aggregate: 'mean', field: 'metric', type: 'quantitative', title: `${results.metric} (%)` },
        },
      },
      ...(seeds.length > 0
        ? [
            {
              mark: { type: 'errorbar' as const, extent: 'stdev' as const, color: '#4c78a8' },
              encoding: { x, y: { field: 'metric', type: 'quantitative' as const, title: `${results.metric} (%)` } },
            },
          ]
        : []),
      {
        mark: { type: 'point', filled: true, size: 60, ...(seeds.length > 0 ? {} : { color: '#e45756' }) },
        encoding: {
          x,
          y: { field: 'metric', type: 'quantitative', title: `${results.metric} (%)` },
          ...(seeds.length > 0 ? { color: { field: 'seed', type: 'nominal' as const, title: seeds.join(', ') } } : {}),
          tooltip: [
            { field: 'combination' },
            ...(seeds.length > 0 ? [{ field: 'seed', title: seeds.join(', ') }] : []),
            { field: 'metric', format: '.1f', title: `${results.metric} (%)` },
          ],
        },
      },
    ],
  };
}

/** Writes `DIR/report.html`: the ranked table and one chart of the metric per swept pointer (drawn by vega, with tooltips). */
export async function renderSweepReport(outDir: string, results: SweepResults): Promise<string> {
  const seeds = results.seedPointers ?? [];
  const charts = results.pointers
    .map((pointer, k) => ({ pointer, k }))
    .filter(({ pointer }) => !seeds.includes(pointer))
    .map(({ pointer, k }) => ({
      id: `sweep-${k}`,
      title: `${results.metric} (%) over ${pointer}`,
      note:
        seeds.length > 0
          ? 'a point per combination (colour: seed), the line through the mean over seeds, bars ± 1 sd'
          : 'a point per combination, the line through the mean per value',
      spec: sweepChartSpec(results, pointer),
      data: { pointer },
    }));
  const { header, rows } = resultsRows(results.pointers, results.combinations, seeds, results.groups ?? []);
  const numeric = (c: number): boolean => rows.every((r) => /^[-+]?[\d.]|^—$/.test(r[c] ?? ''));
  const cell = (tag: 'th' | 'td', v: string, c: number): string =>
    `<${tag}${numeric(c) ? '' : ' class="text"'}>${escapeHtml(v)}</${tag}>`;
  const table =
    `<div class="table-wrap"><table class="ranking"><tr>${header.map((h, c) => cell('th', h, c)).join('')}</tr>` +
    rows.map((r) => `<tr>${r.map((v, c) => cell('td', v, c)).join('')}</tr>`).join('') +
    '</table></div>';
  const grouped =
    seeds.length > 0
      ? `<p class="run-meta">figures in percent, mean ± sample sd over ${escapeHtml(seeds.join(', '))}; n = seeds finished</p>`
      : '<p class="run-meta">figures in percent</p>';
  const body =
    `<header><h1>Sweep ${escapeHtml(results.name)}</h1><p class="run-meta">ranked by ` +
    `<b>${escapeHtml(results.metric)}</b> (${results.goal === 'max' ? 'highest' : 'lowest'} first) · base pipeline ` +
    `${escapeHtml(results.pipeline)}</p></header>` +
    `${grouped}${table}\n${charts.length > 0 ? await chartGrid(charts) : ''}`;
  const file = join(outDir, SWEEP_REPORT);
  await writeFile(file, page(`${results.name} — engram sweep`, body), 'utf8');
  return file;
}
