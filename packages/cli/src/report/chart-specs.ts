import type { TopLevelSpec } from 'vega-lite';
import type { AccuracyPoint, RunData } from './run-data.js';

/** Height of a line or bar chart's plot area (pixels); widths follow the page (`"container"`). */
export const CHART_HEIGHT = 260;
/** Width used when a chart is drawn without a page around it (the static SVG fallback, sweeps). */
export const CHART_WIDTH = 640;

/** The Vega-Lite schema every chart names. */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Accuracies are stored as fractions (summary.json, metrics.jsonl) and shown in percent. */
export const pct = (v: number): number => v * 100;

/** Cell size of the heatmap: at most about 600 px across and 400 px down, between 24 and 90 px a cell. */
function cellSize(rows: number, columns: number): number {
  return Math.max(24, Math.min(90, Math.floor(Math.min(600 / Math.max(1, columns), 400 / Math.max(1, rows)))));
}

/**
 * Heatmap of R: rows = after training experience i, columns = evaluated experience j, with values.
 * Only rows that ran are drawn (a stopped run's trailing empty rows are dropped); cells are square.
 */
export function heatmapSpec(
  matrix: readonly (readonly (number | null)[])[],
  metric: HeatmapMetric = ACCURACY_METRIC,
): TopLevelSpec {
  const rows = ranRows(matrix);
  const values = rows.flatMap((row, i) =>
    row.flatMap((v, j) => (v === null ? [] : [{ after: i, experience: j, [metric.field]: metric.shown(v) }])),
  );
  const step = cellSize(rows.length, rows[0]?.length ?? 1);
  return {
    $schema: SCHEMA,
    description: `${metric.title} matrix`,
    data: { values },
    width: { step },
    height: { step },
    encoding: {
      x: {
        field: 'experience',
        type: 'ordinal',
        title: 'evaluated on experience',
        axis: { labelAngle: 0, orient: 'top' },
      },
      y: { field: 'after', type: 'ordinal', title: 'after training experience' },
      tooltip: [
        { field: 'after', type: 'ordinal', title: 'after training experience' },
        { field: 'experience', type: 'ordinal', title: 'evaluated on experience' },
        { field: metric.field, type: 'quantitative', format: metric.tooltipFormat, title: metric.title },
      ],
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: metric.field,
            type: 'quantitative',
            scale: metric.scale,
            title: metric.title,
            legend: { gradientLength: Math.max(120, step * rows.length) },
          },
        },
      },
      ...(step >= 36
        ? [
            {
              mark: { type: 'text' as const, fontSize: 12 },
              encoding: {
                text: { field: metric.field, type: 'quantitative' as const, format: metric.textFormat },
                color: { condition: { test: metric.brightTest, value: 'black' }, value: 'white' },
              },
            },
          ]
        : []),
    ],
  };
}

/** The rows of R up to the last one holding a value: rows of experiences that never ran are dropped. */
/** What a heatmap shows: the field, its title, its colour scale and when a cell is bright (black text). */
export interface HeatmapMetric {
  readonly field: string;
  readonly title: string;
  readonly scale: { domain?: number[]; scheme: 'viridis'; reverse?: boolean };
  readonly brightTest: string;
  /** What a cell shows for a matrix entry (accuracy: percent). */
  readonly shown: (v: number) => number;
  /** d3 formats of the cell text and the tooltip. */
  readonly textFormat: string;
  readonly tooltipFormat: string;
}

/** The accuracy matrix's colours: percent, 0..100 on viridis. */
export const ACCURACY_METRIC: HeatmapMetric = {
  field: 'accuracy',
  title: 'accuracy (%)',
  scale: { domain: [0, 100], scheme: 'viridis' },
  brightTest: 'datum.accuracy > 60',
  shown: (v) => v * 100,
  textFormat: '.1f',
  tooltipFormat: '.1f',
};

/**
 * A regression run's MAE matrix colours (target units, lower is better): viridis reversed over the
 * matrix's own range, so a low error is bright like a high accuracy; `max` is the largest entry.
 */
export function maeMetric(max: number): HeatmapMetric {
  return {
    field: 'mae',
    title: 'MAE (target units)',
    scale: { domain: [0, max], scheme: 'viridis', reverse: true },
    brightTest: `datum.mae < ${0.4 * max}`,
    shown: (v) => v,
    textFormat: '.2f',
    tooltipFormat: '.3f',
  };
}

export function ranRows(matrix: readonly (readonly (number | null)[])[]): (readonly (number | null)[])[] {
  let n = matrix.length;
  while (n > 0 && (matrix[n - 1] ?? []).every((v) => v === null)) n--;
  return matrix.slice(0, n);
}

/** A nearest-point hover selection: the tooltip follows the pointer to the closest point. */
export const hover = [
  { name: 'hover', select: { type: 'point' as const, on: 'pointerover', nearest: true, clear: 'pointerout' } },
];

/**
 * One line per evaluated experience: its accuracy after each training experience, from the one that
 * trained it on. Before that the model has not seen the experience (in class-incremental scenarios its
 * accuracy is 0, and every future experience's line would lie on the x axis), so those points are
 * left out; the heatmap shows them. Points without a test set are never plotted.
 */
export function accuracyOverTimeSpec(points: readonly AccuracyPoint[], title?: string): TopLevelSpec {
  const x = {
    field: 'afterExperience',
    type: 'quantitative' as const,
    title: 'after training experience',
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = {
    field: 'accuracy',
    type: 'quantitative' as const,
    scale: { domain: [0, 100] },
    title: 'test accuracy (%)',
  };
  return {
    $schema: SCHEMA,
    description: 'accuracy on each experience over time',
    ...(title === undefined ? {} : { title }),
    data: {
      values: points
        .filter((p) => p.afterExperience >= p.experience)
        .map((p) => ({ ...p, accuracy: pct(p.accuracy), experience: `experience ${p.experience}` })),
    },
    width: 'container',
    height: CHART_HEIGHT,
    encoding: { x, y, color: { field: 'experience', type: 'nominal', title: 'evaluated on' } },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      {
        mark: { type: 'point', filled: true, size: 45 },
        params: hover,
        encoding: {
          tooltip: [
            { field: 'experience', type: 'nominal', title: 'evaluated on' },
            { field: 'afterExperience', type: 'quantitative', title: 'after training experience' },
            { field: 'accuracy', type: 'quantitative', format: '.1f', title: 'accuracy (%)' },
          ],
        },
      },
    ],
  };
}

/** Bars of f_j = best earlier accuracy − final accuracy per experience (Chaudhry et al. 2018). */
export function forgettingSpec(perExperience: readonly (number | null)[], yTitle?: string): TopLevelSpec {
  // accuracy forgetting is shown in percentage points; a regression run passes its own title (error units)
  const shown = yTitle === undefined ? pct : (v: number): number => v;
  const values = perExperience.flatMap((f, j) => (f === null ? [] : [{ experience: j, forgetting: shown(f) }]));
  return {
    $schema: SCHEMA,
    description: 'forgetting per experience',
    data: { values },
    width: 'container',
    height: CHART_HEIGHT,
    mark: { type: 'bar', color: '#e45756' },
    encoding: {
      x: { field: 'experience', type: 'ordinal', title: 'experience', axis: { labelAngle: 0 } },
      y: {
        field: 'forgetting',
        type: 'quantitative',
        title: yTitle ?? 'forgetting (best earlier − final accuracy, % points)',
      },
      tooltip: [
        { field: 'experience', type: 'ordinal' },
        {
          field: 'forgetting',
          type: 'quantitative',
          format: yTitle === undefined ? '.1f' : '.3f',
          title: yTitle === undefined ? 'forgetting (% points)' : 'forgetting',
        },
      ],
    },
  };
}

/**
 * Training loss with a dashed rule where each experience (or, in a stream, each detected drift)
 * starts. `x` is the step for experience runs and the samples seen for streams.
 */
export function lossSpec(run: Pick<RunData, 'loss' | 'experienceStarts' | 'drift' | 'axis'>): TopLevelSpec {
  const xTitle = run.axis === 'samples' ? 'samples seen' : 'step (batch)';
  const marks =
    run.axis === 'samples'
      ? run.drift.map((d) => ({ x: d.samples, label: `drift: ${d.reason}` }))
      : run.experienceStarts
          .filter((s) => s.experience > 0)
          .map((s) => ({ x: s.step, label: `experience ${s.experience} starts (its first batch is step ${s.step})` }));
  return {
    $schema: SCHEMA,
    description: 'training loss',
    width: 'container',
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: run.loss.map((p) => ({ x: p.x, loss: p.y })) },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xTitle, scale: { nice: false } },
          y: { field: 'loss', type: 'quantitative', title: 'training loss (incl. penalty)' },
        },
        layer: [
          { mark: { type: 'line', color: '#4c78a8', strokeWidth: 1.5 } },
          {
            mark: { type: 'point', color: '#4c78a8', size: 30 },
            params: hover,
            encoding: {
              opacity: { condition: { param: 'hover', empty: false, value: 1 }, value: 0 },
              tooltip: [
                { field: 'x', type: 'quantitative', title: xTitle, format: ',d' },
                { field: 'loss', type: 'quantitative', format: '.4f' },
              ],
            },
          },
        ],
      },
      {
        data: { values: marks },
        mark: {
          type: 'rule',
          color: run.axis === 'samples' ? '#d62728' : '#999',
          strokeDash: [4, 4],
          strokeWidth: 1.5,
        },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'marker' },
            { field: 'x', type: 'quantitative', title: xTitle, format: ',d' },
          ],
        },
      },
    ],
  };
}
