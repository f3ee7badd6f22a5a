import type { TopLevelSpec } from 'vega-lite';
import { CHART_HEIGHT, SCHEMA, hover, pct, ranRows } from './chart-specs.js';
import type { RunData } from './run-data.js';

/** Average accuracy over the experiences seen so far (row mean of R[i][0..i]), one line per run. */
export function comparisonSpec(
  runs: readonly { label: string; matrix: readonly (readonly (number | null)[])[] }[],
): TopLevelSpec {
  const values = runs.flatMap((run) =>
    ranRows(run.matrix).flatMap((row, i) => {
      const seen = row.slice(0, i + 1).filter((v): v is number => v !== null);
      return seen.length === 0
        ? []
        : [{ run: run.label, after: i, accuracy: pct(seen.reduce((s, v) => s + v, 0) / seen.length) }];
    }),
  );
  return {
    $schema: SCHEMA,
    description: 'average accuracy on seen experiences',
    data: { values },
    width: 'container',
    height: CHART_HEIGHT,
    encoding: {
      x: {
        field: 'after',
        type: 'quantitative',
        title: 'after training experience',
        axis: { tickMinStep: 1, format: 'd' },
      },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        scale: { domain: [0, 100] },
        title: 'mean accuracy on experiences seen so far (%)',
      },
      color: { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      {
        mark: { type: 'point', filled: true, size: 45 },
        params: hover,
        encoding: {
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'after', type: 'quantitative', title: 'after training experience' },
            { field: 'accuracy', type: 'quantitative', format: '.1f', title: 'mean accuracy (seen, %)' },
          ],
        },
      },
    ],
  };
}

/** Cumulative prequential accuracy over samples seen, one line per stream run. */
export function streamComparisonSpec(
  runs: readonly { label: string; run: Pick<RunData, 'prequential'> }[],
): TopLevelSpec {
  const values = runs.flatMap(({ label, run }) =>
    run.prequential.accuracy.map((p) => ({ run: label, samples: p.x, accuracy: pct(p.y) })),
  );
  return {
    $schema: SCHEMA,
    description: 'prequential accuracy of stream runs',
    data: { values },
    width: 'container',
    height: CHART_HEIGHT,
    encoding: {
      x: { field: 'samples', type: 'quantitative', title: 'samples seen', scale: { nice: false } },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        scale: { domain: [0, 100] },
        title: 'prequential accuracy (cumulative, %)',
      },
      color: {
        field: 'run',
        type: 'nominal',
        title: 'run',
        legend: { orient: 'bottom', columns: 2, labelLimit: 400, symbolType: 'stroke' },
      },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      {
        mark: { type: 'point', size: 30 },
        params: hover,
        encoding: {
          opacity: { condition: { param: 'hover', empty: false, value: 1 }, value: 0 },
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'samples', type: 'quantitative', title: 'samples seen', format: ',d' },
            { field: 'accuracy', type: 'quantitative', format: '.1f', title: 'prequential accuracy (%)' },
          ],
        },
      },
    ],
  };
}
