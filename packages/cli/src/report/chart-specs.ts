import type { TopLevelSpec } from 'vega-lite';
import type { AccuracyPoint, RunData } from './run-data.js';

/** Plot-area size of every chart (pixels); the report layout reserves room for axes and legends. */
export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 240;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Heatmap of R: rows = after training experience i, columns = evaluated experience j, with values. */
export function heatmapSpec(matrix: readonly (readonly (number | null)[])[]): TopLevelSpec {
  const values = matrix.flatMap((row, i) => row.flatMap((v, j) => (v === null ? [] : [{ after: i, experience: j, accuracy: v }])));
  const side = Math.min(CHART_HEIGHT, Math.max(160, 60 * (matrix[0]?.length ?? 1)));
  return {
    $schema: SCHEMA,
    description: 'accuracy matrix',
    data: { values },
    width: Math.max(side, Math.min(CHART_WIDTH, side * ((matrix[0]?.length ?? 1) / Math.max(1, matrix.length)))),
    height: side,
    encoding: {
      x: { field: 'experience', type: 'ordinal', title: 'evaluated on experience', axis: { labelAngle: 0 } },
      y: { field: 'after', type: 'ordinal', title: 'after training experience' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1], scheme: 'viridis' }, title: 'accuracy' } } },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'accuracy', type: 'quantitative', format: '.2f' },
          color: { condition: { test: 'datum.accuracy > 0.6', value: 'black' }, value: 'white' },
        },
      },
    ],
  };
}

/** One line per evaluated experience: its accuracy after each training experience (−1 = untrained). */
export function accuracyOverTimeSpec(points: readonly AccuracyPoint[], title?: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'accuracy on each experience over time',
    ...(title === undefined ? {} : { title }),
    data: { values: points.map((p) => ({ ...p, experience: `experience ${p.experience}` })) },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'afterExperience', type: 'quantitative', title: 'after training experience (−1 = untrained model)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'test accuracy' },
      color: { field: 'experience', type: 'nominal', title: 'evaluated on' },
    },
  };
}

/** Bars of f_j = best earlier accuracy − final accuracy per experience (Chaudhry et al. 2018). */
export function forgettingSpec(perExperience: readonly (number | null)[]): TopLevelSpec {
  const values = perExperience.flatMap((f, j) => (f === null ? [] : [{ experience: j, forgetting: f }]));
  return {
    $schema: SCHEMA,
    description: 'forgetting per experience',
    data: { values },
    width: Math.min(CHART_WIDTH, Math.max(160, 60 * values.length)),
    height: CHART_HEIGHT,
    mark: { type: 'bar', color: '#e45756' },
    encoding: {
      x: { field: 'experience', type: 'ordinal', title: 'experience', axis: { labelAngle: 0 } },
      y: { field: 'forgetting', type: 'quantitative', title: 'forgetting (max earlier − final accuracy)' },
      tooltip: [{ field: 'forgetting', type: 'quantitative', format: '.3f' }],
    },
  };
}

/** Training loss per step with a dashed rule where each experience starts. */
export function lossSpec(run: Pick<RunData, 'loss' | 'experienceStarts'>): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'training loss',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: run.loss.map((p) => ({ step: p.x, loss: p.y })) },
        mark: { type: 'line', color: '#4c78a8', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step (batch)' },
          y: { field: 'loss', type: 'quantitative', title: 'training loss (incl. penalty)' },
        },
      },
      {
        data: { values: run.experienceStarts.filter((s) => s.experience > 0) },
        mark: { type: 'rule', color: '#999', strokeDash: [4, 4] },
        encoding: { x: { field: 'step', type: 'quantitative' } },
      },
    ],
  };
}

/** Prequential accuracy (cumulative, window, fading) over steps, with red rules at drift points. */
export function prequentialSpec(run: Pick<RunData, 'prequential' | 'drift'>): TopLevelSpec {
  const label = { accuracy: 'prequential (cumulative)', windowAccuracy: 'sliding window', fadingAccuracy: 'fading' } as const;
  const series = (['accuracy', 'windowAccuracy', 'fadingAccuracy'] as const).flatMap((name) =>
    run.prequential[name].map((p) => ({ step: p.x, accuracy: p.y, series: label[name] })),
  );
  return {
    $schema: SCHEMA,
    description: 'prequential accuracy',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: series },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'prequential accuracy' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: run.drift },
        mark: { type: 'rule', color: '#d62728', strokeWidth: 2, strokeDash: [6, 3] },
        encoding: { x: { field: 'step', type: 'quantitative' }, tooltip: [{ field: 'reason', type: 'nominal' }] },
      },
    ],
  };
}

/** Average accuracy over the experiences seen so far (row mean of R[i][0..i]), one line per run. */
export function comparisonSpec(runs: readonly { label: string; matrix: readonly (readonly (number | null)[])[] }[]): TopLevelSpec {
  const values = runs.flatMap((run) =>
    run.matrix.flatMap((row, i) => {
      const seen = row.slice(0, i + 1).filter((v): v is number => v !== null);
      return seen.length === 0 ? [] : [{ run: run.label, after: i, accuracy: seen.reduce((s, v) => s + v, 0) / seen.length }];
    }),
  );
  return {
    $schema: SCHEMA,
    description: 'average accuracy on seen experiences',
    data: { values },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'after', type: 'quantitative', title: 'after training experience', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'mean accuracy on experiences seen so far' },
      color: { field: 'run', type: 'nominal', title: 'run' },
    },
  };
}
