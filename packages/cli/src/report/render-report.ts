import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accuracyOverTimeSpec, forgettingSpec, heatmapSpec, lossSpec, prequentialSpec } from './chart-specs.js';
import { reportHtml, type ChartSection } from './report-html.js';
import { loadRun, type RunData } from './run-data.js';
import { renderSvg } from './svg-render.js';

/** File name of the report inside the run directory. */
export const REPORT_FILE = 'report.html';

/** Renders the charts a run has data for, in page order. */
export async function renderCharts(run: RunData): Promise<ChartSection[]> {
  const s = run.summary;
  const charts: ChartSection[] = [];
  const hasMatrix = s.accuracyMatrix.some((row) => row.some((v) => v !== null));
  if (hasMatrix) {
    charts.push({ id: 'accuracy-matrix', title: 'Accuracy matrix', note: 'row i: after training experience i; column j: test accuracy on experience j', svg: await renderSvg(heatmapSpec(s.accuracyMatrix)) });
  }
  if (run.accuracy.length > 0) {
    charts.push({ id: 'accuracy-over-time', title: 'Accuracy on each experience over time', note: 'a falling line is forgetting', svg: await renderSvg(accuracyOverTimeSpec(run.accuracy)) });
  }
  if (s.forgettingPerExperience.some((f) => f !== null)) {
    charts.push({ id: 'forgetting', title: 'Forgetting per experience', note: 'best accuracy before the last experience minus final accuracy (Chaudhry et al. 2018)', svg: await renderSvg(forgettingSpec(s.forgettingPerExperience)) });
  }
  if (run.loss.length > 0) {
    charts.push({ id: 'loss', title: 'Training loss', note: 'per batch (bucket means); dashed: start of an experience', svg: await renderSvg(lossSpec(run)) });
  }
  if (run.prequential.accuracy.length > 0) {
    charts.push({ id: 'prequential', title: 'Prequential accuracy', note: 'test-then-train; red dashed: detected drift', svg: await renderSvg(prequentialSpec(run)) });
  }
  return charts;
}

/**
 * Reads `outDir/summary.json` and `outDir/metrics.jsonl` and writes `outDir/report.html`: one
 * self-contained page (inline SVG charts rendered in Node, no scripts, no network). Returns the
 * report's path. Errors name the missing or malformed file.
 */
export async function renderReport(outDir: string): Promise<string> {
  const run = await loadRun(outDir);
  const html = reportHtml(run.summary, await renderCharts(run));
  const path = join(outDir, REPORT_FILE);
  await writeFile(path, html, 'utf8');
  return path;
}
