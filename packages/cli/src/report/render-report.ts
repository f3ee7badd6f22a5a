import type { RegressionErrors } from '@engram/core';
import { writeFileAtomic } from '@engram/core/internal';
import { join } from 'node:path';
import { chartGrid, type ChartSection } from './chart-page.js';
import { accuracyOverTimeSpec, forgettingSpec, heatmapSpec, lossSpec, maeMetric, ranRows } from './chart-specs.js';
import { prequentialSpec } from './prequential-spec.js';
import { reportHtml } from './report-html.js';
import { loadRun, type RunData } from './run-data.js';
import { validationSpec } from './validation-spec.js';

/** File name of the report inside the run directory. */
export const REPORT_FILE = 'report.html';

/** A regression run's charts: its MAE matrix and forgetting as MAE increase per experience. */
function errorCharts(e: RegressionErrors, stopped: boolean): ChartSection[] {
  const charts: ChartSection[] = [];
  const rows = ranRows(e.maeMatrix);
  const max = Math.max(0, ...rows.flat().filter((v): v is number => v !== null));
  if (rows.length > 0)
    charts.push({
      id: 'mae-matrix',
      title: 'MAE matrix',
      note:
        'row i: after training experience i; column j: mean absolute error on experience j (target units, lower is ' +
        `better)${stopped ? '; the run stopped: only the experiences that ran are shown' : ''}`,
      spec: heatmapSpec(rows, maeMetric(max)),
    });
  if (e.forgettingPerExperience.some((f) => f !== null))
    charts.push({
      id: 'forgetting',
      title: 'Forgetting per experience',
      note: 'final MAE minus the lowest earlier MAE (error increase, target units)',
      spec: forgettingSpec(e.forgettingPerExperience, 'forgetting (final − best earlier MAE)'),
    });
  return charts;
}

/** The charts a run has data for, in page order: stream charts for a stream, experience charts otherwise. */
export function reportCharts(run: RunData): ChartSection[] {
  const s = run.summary;
  const charts: ChartSection[] = [];
  if (run.prequential.accuracy.length > 0) {
    charts.push({
      id: 'prequential',
      title: run.prequentialMetric === 'mae' ? 'Prequential MAE' : 'Prequential accuracy',
      note:
        'test-then-train: each batch is scored before it is trained on; red dashed: detected drift' +
        (run.prequentialMetric === 'mae' ? '; mean absolute error in target units, lower is better' : ''),
      spec: prequentialSpec(run),
      wide: true,
    });
  }
  if (s.errors) charts.push(...errorCharts(s.errors, s.status === 'stopped'));
  const rows = ranRows(s.accuracyMatrix);
  if (rows.some((row) => row.some((v) => v !== null))) {
    const stopped = s.status === 'stopped' ? '; the run stopped: only the experiences that ran are shown' : '';
    charts.push({
      id: 'accuracy-matrix',
      title: 'Accuracy matrix',
      note: `row i: after training experience i; column j: test accuracy on experience j${stopped}`,
      spec: heatmapSpec(rows),
    });
  }
  if (run.accuracy.length > 0) {
    charts.push({
      id: 'accuracy-over-time',
      title: 'Accuracy on each experience over time',
      note: 'a falling line is forgetting',
      spec: accuracyOverTimeSpec(run.accuracy),
    });
  }
  if (s.forgettingPerExperience.some((f) => f !== null)) {
    charts.push({
      id: 'forgetting',
      title: 'Forgetting per experience',
      note: 'best earlier accuracy minus final accuracy (Chaudhry et al. 2018)',
      spec: forgettingSpec(s.forgettingPerExperience),
    });
  }
  if (run.loss.length > 0) {
    const note =
      run.axis === 'samples'
        ? 'per batch (bucket means) over samples seen; red dashed: detected drift'
        : 'per batch (bucket means); dashed: start of an experience';
    charts.push({ id: 'loss', title: 'Training loss', note, spec: lossSpec(run), wide: run.axis === 'samples' });
  }
  if (run.validation.length > 0) {
    const note = 'held-out part of each experience’s training data; red cross: early stopping ended the experience';
    charts.push({
      id: 'validation-loss',
      title: 'Validation loss per epoch',
      note,
      spec: validationSpec(run.validation, 'loss'),
    });
    if (run.validation.some((v) => v.accuracy !== null))
      charts.push({
        id: 'validation-accuracy',
        title: 'Validation accuracy per epoch',
        note,
        spec: validationSpec(run.validation, 'accuracy'),
      });
  }
  return charts;
}

/**
 * Reads `outDir/summary.json` and `outDir/metrics.jsonl` and writes `outDir/report.html`: one
 * self-contained page (vega's runtime and the data inline, no network) whose charts vega draws at
 * the page's width, with tooltips; each chart is also in the page as static SVG for readers without
 * scripts. Returns the report's path. Errors name the missing or malformed file.
 */
export async function renderReport(outDir: string): Promise<string> {
  const run = await loadRun(outDir);
  const html = reportHtml(run.summary, await chartGrid(reportCharts(run)), {
    plannedExperiences: run.plannedExperiences,
    drift: run.drift,
  });
  const path = join(outDir, REPORT_FILE);
  await writeFileAtomic(path, html);
  return path;
}
