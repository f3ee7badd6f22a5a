import type { TopLevelSpec } from 'vega-lite';
import { CHART_HEIGHT, SCHEMA, hover, pct } from './chart-specs.js';
import type { RunData } from './run-data.js';

/** Readable names of the prequential series (legend, tooltips). */
export const PREQUENTIAL_LABELS = {
  accuracy: 'cumulative',
  windowAccuracy: 'sliding window',
  fadingAccuracy: 'fading',
} as const;

/**
 * Prequential accuracy (cumulative, sliding window, fading) over samples seen, with red rules at drift
 * points; a regression stream's prequential MAE in target units (`prequentialMetric` `mae`, lower is better).
 */
export function prequentialSpec(
  run: Pick<RunData, 'prequential' | 'drift'> & { prequentialMetric?: RunData['prequentialMetric'] },
  title?: string,
): TopLevelSpec {
  const mae = run.prequentialMetric === 'mae';
  const series = (['accuracy', 'windowAccuracy', 'fadingAccuracy'] as const).flatMap((name) =>
    run.prequential[name].map((p) => ({
      samples: p.x,
      accuracy: mae ? p.y : pct(p.y),
      series: PREQUENTIAL_LABELS[name],
    })),
  );
  const x = { field: 'samples', type: 'quantitative' as const, title: 'samples seen', scale: { nice: false } };
  return {
    $schema: SCHEMA,
    description: mae ? 'prequential MAE' : 'prequential accuracy',
    ...(title === undefined ? {} : { title }),
    width: 'container',
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: series },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x,
          y: mae
            ? { field: 'accuracy', type: 'quantitative', title: 'prequential MAE (target units)' }
            : {
                field: 'accuracy',
                type: 'quantitative',
                scale: { domain: [0, 100] },
                title: 'prequential accuracy (%)',
              },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            sort: Object.values(PREQUENTIAL_LABELS),
            legend: { orient: 'bottom' },
          },
        },
      },
      {
        // One invisible rule per x holding all three series: the tooltip shows them side by side.
        data: { values: series },
        transform: [{ pivot: 'series', value: 'accuracy', groupby: ['samples'] }],
        mark: { type: 'rule', color: '#888' },
        params: hover,
        encoding: {
          x,
          opacity: { condition: { param: 'hover', empty: false, value: 0.5 }, value: 0 },
          tooltip: [
            { field: 'samples', type: 'quantitative', title: 'samples seen', format: ',d' },
            ...Object.values(PREQUENTIAL_LABELS).map((name) => ({
              field: name,
              type: 'quantitative' as const,
              format: mae ? '.4f' : '.1f',
            })),
          ],
        },
      },
      {
        data: { values: run.drift.map((d, k) => ({ ...d, drift: k + 1 })) },
        mark: { type: 'rule', color: '#d62728', strokeWidth: 2, strokeDash: [6, 3] },
        encoding: {
          x: { field: 'samples', type: 'quantitative' },
          tooltip: [
            { field: 'drift', type: 'ordinal', title: 'drift boundary' },
            { field: 'samples', type: 'quantitative', title: 'at sample', format: ',d' },
            { field: 'reason', type: 'nominal' },
          ],
        },
      },
    ],
  };
}
