import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { accuracyOverTimeSpec, comparisonSpec, prequentialSpec } from './chart-specs.js';
import { escapeHtml, fmt, fmtSeconds } from './report-html.js';
import { loadRun, type RunData } from './run-data.js';
import { renderSvg } from './svg-render.js';

const COLUMNS = ['run', 'strategy', 'scenario', 'ACC', 'BWT', 'FWT', 'forgetting', 'time'] as const;

/** The comparison rows (as printed), one per run directory. */
export function comparisonRows(runs: readonly RunData[]): string[][] {
  return runs.map((r) => {
    const s = r.summary;
    return [basename(resolve(r.dir)), s.strategy, s.scenario, fmt(s.averageAccuracy, 4), fmt(s.bwt, 4, true), fmt(s.fwt, 4, true), fmt(s.forgetting, 4), fmtSeconds(s.wallSeconds)];
  });
}

/** A plain-text table: left-aligned text columns, right-aligned numbers, a rule under the header. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+|^—$/.test(r[c] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (numeric[c] === true ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Compares finished runs (their `--out` directories): returns a text table with strategy, scenario,
 * ACC, BWT, FWT, forgetting and wall time per run. With `htmlFile`, also writes a self-contained
 * HTML page with the table, the runs' mean accuracy on seen experiences in one chart, and each
 * run's accuracy-over-time chart side by side.
 */
export async function renderComparison(dirs: readonly string[], htmlFile?: string): Promise<string> {
  if (dirs.length === 0) throw new Error('compare needs at least one run directory');
  const runs: RunData[] = [];
  for (const dir of dirs) runs.push(await loadRun(dir));
  const rows = comparisonRows(runs);
  const table = formatTable(COLUMNS, rows);
  if (htmlFile !== undefined) {
    const labels = rows.map((r, i) => `${r[0] ?? i} (${r[1] ?? ''})`);
    const overall = await renderSvg(comparisonSpec(runs.map((r, i) => ({ label: labels[i] ?? String(i), matrix: r.summary.accuracyMatrix }))));
    const perRun: string[] = [];
    for (const [i, r] of runs.entries()) {
      // A stream run has no per-experience evaluations: its chart is the prequential accuracy.
      const stream = r.accuracy.length === 0 && r.summary.mode === 'stream';
      const svg = r.accuracy.length > 0 ? await renderSvg(accuracyOverTimeSpec(r.accuracy, labels[i] ?? '')) : stream ? await renderSvg(prequentialSpec(r)) : '<p>no evaluations</p>';
      const heading = stream ? `<h3>${escapeHtml(labels[i] ?? '')}: prequential accuracy</h3>` : '';
      perRun.push(`<div class="run" data-run="${escapeHtml(labels[i] ?? '')}">${heading}${svg}</div>`);
    }
    const htmlRows = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
    const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>engram comparison</title><style>` +
      `body{margin:20px;font:14px/1.4 Helvetica,Arial,sans-serif;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px}` +
      `.runs{display:flex;flex-wrap:wrap;gap:16px}.run{flex:1 1 640px;max-width:900px}.run svg{width:100%;height:auto}.run h3{margin:0;font-size:15px}</style></head><body><h1>Run comparison</h1>` +
      `<table><tr>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr>${htmlRows}</table>` +
      `<section class="chart" data-chart="comparison"><h2>Mean accuracy on experiences seen so far</h2>${overall}</section>` +
      `<section class="chart" data-chart="runs"><h2>Accuracy on each experience over time</h2><div class="runs">${perRun.join('')}</div></section></body></html>\n`;
    await writeFile(htmlFile, html, 'utf8');
  }
  return table;
}
