import type { RunSummary } from '@engram/core';

/**
 * Fixed page geometry (CSS pixels). Charts sit at known positions so a screenshot can be checked
 * region by region: section k (0-based) spans `HEADER_HEIGHT + k·SECTION_HEIGHT` … `+ SECTION_HEIGHT`,
 * its chart starts `TITLE_HEIGHT` below the section top. The page is `PAGE_WIDTH` wide.
 */
export const LAYOUT = { PAGE_WIDTH: 1160, HEADER_HEIGHT: 230, SECTION_HEIGHT: 420, TITLE_HEIGHT: 40 } as const;

/** A rendered chart: its `data-chart` id, heading, one-line explanation and SVG markup. */
export interface ChartSection {
  id: string;
  title: string;
  note: string;
  svg: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A number with `digits` decimals, `—` for null/undefined; `signed` prefixes + for positives. */
export function fmt(v: number | null | undefined, digits = 3, signed = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${signed && v > 0 ? '+' : ''}${v.toFixed(digits)}`;
}

/** Seconds as `12.3 s` or `4 min 05 s`. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#222;font:14px/1.4 Helvetica,Arial,sans-serif}
main{width:${LAYOUT.PAGE_WIDTH}px;margin:0 20px}
header{height:${LAYOUT.HEADER_HEIGHT}px;overflow:hidden;padding-top:12px;border-bottom:1px solid #ddd}
h1{margin:0 0 4px;font-size:24px;line-height:32px}
.run-meta{margin:0 0 12px;color:#555}
.figures{display:grid;grid-template-columns:repeat(6,1fr);gap:8px}
.figure{border:1px solid #e3e3e3;border-radius:4px;padding:6px 8px}
.figure b{display:block;font-size:18px}
.figure span{color:#666;font-size:12px}
section.chart{height:${LAYOUT.SECTION_HEIGHT}px;overflow:hidden;border-bottom:1px solid #eee}
section.chart h2{height:${LAYOUT.TITLE_HEIGHT}px;margin:0;font-size:17px;line-height:${LAYOUT.TITLE_HEIGHT}px}
section.chart h2 small{font-weight:normal;color:#666;font-size:12px;margin-left:8px}
section.chart svg{display:block;max-width:100%;height:auto;max-height:${LAYOUT.SECTION_HEIGHT - LAYOUT.TITLE_HEIGHT - 8}px}
.details{padding:16px 0 40px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}
`;

/** One key figure for the header grid. */
function figure(label: string, value: string, hint: string): string {
  return `<div class="figure" title="${escapeHtml(hint)}"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`;
}

/** The header: pipeline name, strategy, scenario, backend, seed and the key figures. */
function header(s: RunSummary): string {
  // A stream has no per-experience test sets: its figures are prequential, not ACC/BWT/FWT.
  const figures = s.mode === 'stream' ? [] : [
    figure('ACC', fmt(s.averageAccuracy), 'average accuracy on all experiences after the last one'),
    figure('BWT', fmt(s.bwt, 3, true), 'backward transfer; negative = forgetting'),
    figure('FWT', fmt(s.fwt, 3, true), 'forward transfer vs the untrained model'),
    figure('forgetting', fmt(s.forgetting), 'mean drop from best to final accuracy'),
    figure('learning acc.', fmt(s.learningAccuracy), 'accuracy right after learning each experience'),
  ];
  if (s.prequential !== null) {
    figures.push(figure('prequential acc.', fmt(s.prequential.accuracy), 'test-then-train accuracy over the whole stream'));
    figures.push(figure('window acc.', fmt(s.prequential.windowAccuracy), 'prequential accuracy over the last window of samples'));
    figures.push(figure('fading acc.', fmt(s.prequential.fadingAccuracy), 'prequential accuracy with exponential fading'));
    figures.push(figure('samples', s.prequential.samples.toLocaleString('en'), 'samples seen'));
    figures.push(figure('drift points', String(s.driftPoints.length), 'boundaries detected'));
  }
  figures.push(
    figure('wall time', fmtSeconds(s.wallSeconds), 'whole run'),
    figure('samples/s', fmt(s.samplesPerSecond, 0), 'training throughput'),
    figure('peak RSS', `${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`, 'resident memory'),
    figure('experiences', String(s.experiences), 'trained experiences'),
    figure('steps', String(s.steps), 'optimizer steps'),
  );
  const meta = [`strategy <b>${escapeHtml(s.strategy)}</b>`, `scenario <b>${escapeHtml(s.scenario)}</b>`, `backend <b>${escapeHtml(s.backend)}</b>`, `seed <b>${s.seed}</b>`, `mode <b>${escapeHtml(s.mode)}</b>`];
  if (s.stopped !== null) meta.push(`stopped: <b>${escapeHtml(s.stopped)}</b>`);
  return `<header><h1>${escapeHtml(s.name)}</h1><p class="run-meta">${meta.join(' · ')}</p><div class="figures">${figures.join('')}</div></header>`;
}

/** Tables and the pipeline below the charts (not part of the fixed layout). */
function details(s: RunSummary): string {
  const exp = s.perExperience
    .map((e) => `<tr><td>${e.experience}</td><td>${fmtSeconds(e.wallSeconds)}</td><td>${e.samples}</td><td>${fmt(e.samplesPerSecond, 0)}</td><td>${fmt(e.loss)}</td><td>${(e.rssBytes / 2 ** 20).toFixed(0)}</td></tr>`)
    .join('');
  const perClass = s.perClassAccuracy === null ? '' : `<h3>Per-class accuracy (last evaluation)</h3><table><tr><th>class</th>${s.perClassAccuracy.map((_, c) => `<th>${c}</th>`).join('')}</tr><tr><th>accuracy</th>${s.perClassAccuracy.map((a) => `<td>${fmt(a)}</td>`).join('')}</tr></table>`;
  return `<div class="details"><h3>Experiences</h3><table><tr><th>experience</th><th>wall time</th><th>samples</th><th>samples/s</th><th>loss</th><th>RSS MiB</th></tr>${exp}</table>${perClass}` +
    `<details><summary>Pipeline</summary><pre>${escapeHtml(JSON.stringify(s.pipeline, null, 2) ?? 'null')}</pre></details></div>`;
}

/** The complete self-contained page: inline CSS and SVG, no scripts, no external resources. */
export function reportHtml(summary: RunSummary, charts: readonly ChartSection[]): string {
  const sections = charts
    .map((c) => `<section class="chart" data-chart="${escapeHtml(c.id)}"><h2>${escapeHtml(c.title)}<small>${escapeHtml(c.note)}</small></h2>${c.svg}</section>`)
    .join('\n');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(summary.name)} — engram report</title><style>${STYLE}</style></head>` +
    `<body><main>${header(summary)}\n${sections}\n${details(summary)}</main></body></html>\n`;
}
