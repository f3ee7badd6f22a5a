import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, toVegaSpec } from './svg-render.js';

/** A chart of a page: its `data-chart` id, heading, one-line explanation and vega-lite spec. */
export interface ChartSection {
  id: string;
  title: string;
  note: string;
  spec: TopLevelSpec;
  /** Spans the whole page width instead of one column of the chart grid. */
  wide?: boolean;
  /** Extra `data-*` attributes of the figure (name without the `data-` prefix). */
  data?: Record<string, string>;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let runtime: string | undefined;

/** vega's browser build (`vega.min.js` of the installed `vega` package), read once. */
export function vegaRuntime(): string {
  if (runtime === undefined) {
    const entry = createRequire(import.meta.url).resolve('vega');
    runtime = readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  }
  return runtime;
}

/** Page style: full width, a KPI grid, charts two to a row from 1,200 px, one below. */
export const PAGE_STYLE = `
*{box-sizing:border-box}
html,body{margin:0;background:#fff;color:#1f2328;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{padding:20px 28px 40px;max-width:100%}
h1{margin:0;font-size:26px;line-height:1.25}
h2{margin:0;font-size:17px}
h3{margin:24px 0 8px;font-size:16px}
.run-meta{margin:6px 0 14px;color:#57606a;overflow-wrap:anywhere}
.run-meta b{color:#1f2328}
.status{margin:0 0 14px;padding:10px 14px;border-radius:6px;border:1px solid}
.status.stopped{background:#fff8c5;border-color:#d4a72c}
.status.failed{background:#ffebe9;border-color:#ff8182}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin-bottom:22px}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;background:#f6f8fa}
.kpi span{display:block;color:#57606a;font-size:13px}
.kpi b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(560px,100%),1fr));gap:22px 32px}
figure.chart{margin:0;min-width:0;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px 10px}
figure.chart.wide{grid-column:1/-1}
figure.chart .note{margin:2px 0 8px;color:#57606a;font-size:13px}
.vega{width:100%;min-width:0}
.vega svg{max-width:100%}
.table-wrap{overflow-x:auto;max-width:100%;margin-bottom:18px}
table{border-collapse:collapse;margin:4px 0 8px;font-variant-numeric:tabular-nums}
td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:right}
th{background:#f6f8fa}
td.text,th.text{text-align:left}
pre{background:#f6f8fa;padding:10px;overflow:auto;max-height:420px;max-width:100%}
`;

/**
 * One chart: a `<figure>` holding the compiled vega spec as JSON (drawn in the page by vega, with
 * tooltips and the page's width) and the same chart pre-rendered as SVG in `<noscript>` (for
 * readers without scripts).
 */
export async function chartFigure(c: ChartSection): Promise<string> {
  const id = `chart-${c.id}`;
  const svg = await renderSvg(c.spec);
  const data = Object.entries(c.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return (
    `<figure class="chart${c.wide === true ? ' wide' : ''}" ` +
    `data-chart="${escapeHtml(c.id)}"${data}><h2>${escapeHtml(c.title)}</h2><p class="note">${escapeHtml(c.note)}</p>` +
    `<div class="vega" id="${escapeHtml(id)}"></div><script type="application/json" class="vega-spec" ` +
    `data-for="${escapeHtml(id)}">${scriptJson({ ...toVegaSpec(c.spec), $schema: undefined })}</script>` +
    `<noscript>${svg}</noscript></figure>`
  );
}

/** The charts of a page in a grid. */
export async function chartGrid(charts: readonly ChartSection[]): Promise<string> {
  const figures: string[] = [];
  for (const c of charts) figures.push(await chartFigure(c));
  return figures.length === 0 ? '' : `<div class="charts">\n${figures.join('\n')}\n</div>`;
}

/**
 * Draws every `script.vega-spec` into its container with vega's View (SVG renderer, vega's own
 * tooltip handler) and keeps the views in `window.engramViews` by container id. A chart that fails
 * leaves its error in the container and on the console.
 */
const BOOT = `(function(){var views=window.engramViews={};
document.querySelectorAll('script.vega-spec').forEach(function(el){var id=el.getAttribute('data-for');var box=document.getElementById(id);
try{var view=new vega.View(vega.parse(JSON.parse(el.textContent)),{renderer:'svg',container:box,hover:true});views[id]=view;
view.runAsync().catch(function(e){box.textContent='chart failed: '+e;console.error(e);});}
catch(e){box.textContent='chart failed: '+e;console.error(e);}});})();`;

/** A complete self-contained page: inline CSS, vega's runtime and the charts' specs; no external resources. */
export function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" ` +
    `content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>` +
    `<body><main>\n${body}\n</main><script>${vegaRuntime()}</script><script>${BOOT}</script></body></html>\n`
  );
}
