import type { TopLevelSpec } from 'vega-lite';
import { CHART_HEIGHT } from './chart-specs.js';

/** One epoch's validation figures (`epoch-end` events of a run with `training.validation`). */
export interface ValidationPoint {
  /** Epochs finished before this one over the whole run (the x axis). */
  index: number;
  experience: number;
  epoch: number;
  loss: number;
  /** Accuracy on the held-out part; null when the run's task has none. */
  accuracy: number | null;
  /** Early stopping ended the experience after this epoch. */
  stoppedEarly: boolean;
}

/**
 * Per-epoch validation `metric` (loss or accuracy), one line per experience, epochs numbered over the
 * run; a red cross marks an epoch after which early stopping ended its experience. Drawn by the report
 * when the run held out validation data.
 */
export function validationSpec(points: readonly ValidationPoint[], metric: 'loss' | 'accuracy'): TopLevelSpec {
  const values = points.flatMap((p) => {
    // accuracies are fractions in the events, percent on the chart
    const value = metric === 'loss' ? p.loss : p.accuracy === null ? null : p.accuracy * 100;
    return value === null ? [] : [{ ...p, experience: `experience ${p.experience}`, value }];
  });
  const title = metric === 'loss' ? 'validation loss' : 'validation accuracy (%)';
  const x = { field: 'index', type: 'quantitative' as const, title: 'epoch (over the run)', axis: { tickMinStep: 1 } };
  const y = { field: 'value', type: 'quantitative' as const, title };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: title,
    width: 'container',
    height: CHART_HEIGHT,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y,
          color: { field: 'experience', type: 'nominal', title: null },
          tooltip: [
            { field: 'experience', type: 'nominal' },
            { field: 'epoch', type: 'ordinal' },
            { field: 'value', type: 'quantitative', title, format: metric === 'loss' ? '.4f' : '.1f' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.stoppedEarly' }],
        mark: { type: 'point', shape: 'cross', size: 140, color: '#d62728', strokeWidth: 2 },
        encoding: { x, y },
      },
    ],
  };
}
