import { writeFileAtomic } from '@engram/core/internal';
import { basename, resolve } from 'node:path';
import { chartGrid, escapeHtml, page, type ChartSection } from './chart-page.js';
import { accuracyOverTimeSpec } from './chart-specs.js';
import { comparisonSpec, streamComparisonSpec } from './comparison-specs.js';
import { prequentialSpec } from './prequential-spec.js';
import { fmtPct, fmtSeconds, totalWallSeconds } from './report-html.js';
import { loadRun, type RunData } from './run-data.js';

const RUN_COLUMNS = ['run', 'strategy', 'scenario'] as const;
const ACCURACY_COLUMNS = ['ACC', 'BWT', 'FWT', 'forgetting'] as const;
/** A regression run's figures, in the targets' units (lower is better); forgetting is the MAE increase. */
const ERROR_COLUMNS = ['MAE', 'RMSE', 'MAE forgetting'] as const;

/**
 * The columns of a comparison: accuracy figures when a classification run is among the runs, MAE/RMSE
 * when a regression run is, prequential figures only when a stream run is (accuracy, or MAE for a regression
 * stream), status only when one did not complete.
 */
export function comparisonColumns(runs: readonly RunData[]): string[] {
  const streams = runs.filter((r) => r.summary.mode === 'stream');
  const incomplete = runs.some((r) => r.summary.status !== 'completed');
  // a regression stream is scored by prequential MAE (it has no per-experience errors block)
  const regressionStream = (r: RunData): boolean => r.summary.prequential?.mae !== undefined;
  const regression = runs.filter((r) => r.summary.errors !== undefined || regressionStream(r)).length;
  const experienceRegression = runs.some((r) => r.summary.errors !== undefined);
  return [
    ...RUN_COLUMNS,
    ...(regression < runs.length || runs.length === 0 ? ACCURACY_COLUMNS : []),
    ...(experienceRegression ? ERROR_COLUMNS : []),
    ...(streams.some((r) => !regressionStream(r)) ? ['preq. acc'] : []),
    ...(streams.some(regressionStream) ? ['preq. MAE'] : []),
    ...(streams.length > 0 ? ['samples'] : []),
    'time',
    ...(incomplete ? ['status'] : []),
  ];
}

/** An error in target units with 4 decimals, or `—`. */
function fmtError(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toFixed(4);
}

/** The comparison rows (as printed), one per run directory, in {@link comparisonColumns} order. */
export function comparisonRows(runs: readonly RunData[]): string[][] {
  const columns = comparisonColumns(runs);
  return runs.map((r) => {
    const s = r.summary;
    const cells: Record<string, string> = {
      run: basename(resolve(r.dir)),
      strategy: s.strategy,
      scenario: s.scenario,
      ACC: fmtPct(s.averageAccuracy),
      BWT: fmtPct(s.bwt, true),
      FWT: fmtPct(s.fwt, true),
      forgetting: fmtPct(s.forgetting),
      MAE: fmtError(s.errors?.averageMae),
      RMSE: fmtError(s.errors?.averageRmse),
      'MAE forgetting': fmtError(s.errors?.forgetting),
      'preq. acc': fmtPct(s.prequential?.accuracy),
      'preq. MAE': fmtError(s.prequential?.mae),
      samples: s.prequential === null ? '—' : String(s.prequential.samples),
      time: fmtSeconds(totalWallSeconds(s)),
      status: s.status + (s.stopped === null ? '' : ` (${s.stopped})`),
    };
    return columns.map((c) => cells[c] ?? '');
  });
}

/** A plain-text table: left-aligned text columns, right-aligned numbers, a rule under the header. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+|^—$/.test(r[c] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (numeric[c] === true ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The comparison page's charts: one chart over all runs per mode, then one chart per run. */
export function comparisonCharts(runs: readonly RunData[], labels: readonly string[]): ChartSection[] {
  const label = (i: number): string => labels[i] ?? String(i);
  const finite = runs.map((r, i) => ({ r, label: label(i) })).filter(({ r }) => r.summary.mode !== 'stream');
  const streams = runs.map((r, i) => ({ r, label: label(i) })).filter(({ r }) => r.summary.mode === 'stream');
  const charts: ChartSection[] = [];
  const both = finite.length > 0 && streams.length > 0; // then the two overall charts share a row
  if (finite.some(({ r }) => r.summary.accuracyMatrix.length > 0)) {
    charts.push({
      id: 'comparison',
      title: 'Mean accuracy on experiences seen so far',
      note: 'row mean of R[i][0..i], one line per run',
      spec: comparisonSpec(finite.map(({ r, label: l }) => ({ label: l, matrix: r.summary.accuracyMatrix }))),
      wide: !both,
    });
  }
  if (streams.length > 0) {
    charts.push({
      id: 'stream-comparison',
      title: 'Prequential accuracy of the stream runs',
      note: 'cumulative test-then-train accuracy over samples seen, one line per run',
      spec: streamComparisonSpec(streams.map(({ r, label: l }) => ({ label: l, run: r }))),
      wide: !both,
    });
  }
  runs.forEach((r, i) => {
    const id = `run-${i}`;
    if (r.summary.mode === 'stream' || r.accuracy.length === 0) {
      if (r.prequential.accuracy.length > 0)
        charts.push({
          id,
          title: label(i),
          note: 'prequential accuracy (cumulative, sliding window, fading); red dashed: drift',
          spec: prequentialSpec(r),
        });
    } else {
      charts.push({
        id,
        title: label(i),
        note: 'accuracy on each experience after each training experience',
        spec: accuracyOverTimeSpec(r.accuracy),
      });
    }
  });
  return charts;
}

/**
 * Compares runs (their `--out` directories): returns a text table with strategy, scenario, ACC, BWT,
 * FWT, forgetting (and, when a stream run is among them, prequential accuracy and samples) and total
 * wall time per run. With `htmlFile`, also writes a self-contained page with the table, the runs
 * together in one chart per mode and each run's own chart, two to a row.
 */
export async function renderComparison(dirs: readonly string[], htmlFile?: string): Promise<string> {
  if (dirs.length === 0) throw new Error('compare needs at least one run directory');
  const runs: RunData[] = [];
  for (const dir of dirs) runs.push(await loadRun(dir));
  const columns = comparisonColumns(runs);
  const rows = comparisonRows(runs);
  const table = formatTable(columns, rows);
  if (htmlFile !== undefined) {
    const labels = rows.map((r, i) => `${r[0] ?? i} (${r[1] ?? ''})`);
    const htmlRows = rows
      .map(
        (r, i) =>
          `<tr data-run="${escapeHtml(labels[i] ?? '')}">${r.map((c, k) => `<td${k < 3 ? ' class="text"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
      )
      .join('');
    const body =
      '<header><h1>Run comparison</h1>' +
      `<p class="run-meta">${runs.length} runs · ${runs.map((r) => escapeHtml(resolve(r.dir))).join(' · ')}</p></header>` +
      `<div class="table-wrap"><table ` +
      `class="comparison"><tr>${columns.map((c, k) => `<th${k < 3 ? ' class="text"' : ''}>${escapeHtml(c)}</th>`).join('')}</tr>${htmlRows}</table></div>\n` +
      (await chartGrid(comparisonCharts(runs, labels)));
    await writeFileAtomic(htmlFile, page('engram comparison', body));
  }
  return table;
}
