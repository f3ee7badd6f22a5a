import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** uPlot's browser build and stylesheet, read from the installed package (no network asset). */
function uplotAssets(): { js: string; css: string } {
  const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  return {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

/** `</script` inside inlined code would end the element early. */
const inline = (code: string): string => code.replace(/<\/(script|style)/gi, '<\\/$1');

/**
 * The client of the dashboard: follows `GET /events` (Server-Sent Events), keeps the last points
 * per chart and redraws (accuracies in percent; a regression run hides the accuracy chart, shows its MAE
 * on the loss chart and its matrix in target units; the throughput is the batch event's records per
 * second of wall time since its experience started, checkpoints inside it included) at most four times a second; polls `/readyz` for the served version.
 * `window.__engramChartUpdates` counts redraws that had data (the browser test reads it).
 */
const CLIENT = String.raw`
(() => {
  const MAX = 5000;
  const rows = new Map(); // step -> [running, preqWindow, preqCumulative, loss, preqLoss, samplesPerSecond, trainMae, preqWindowMae]
  const boundaries = [];
  const matrix = new Map(); // afterExperience -> Map(experience -> accuracy)
  let dirty = false, status = 'connecting', name = '', regression = false;
  window.__engramChartUpdates = 0;
  const $ = (id) => document.getElementById(id);
  const row = (step) => { let r = rows.get(step); if (!r) { r = [null, null, null, null, null, null, null, null]; rows.set(step, r); if (rows.size > MAX) rows.delete(rows.keys().next().value); } return r; };
  const boundaryPlugin = { hooks: { draw: [(u) => {
    const ctx = u.ctx; ctx.save(); ctx.strokeStyle = '#d62728'; ctx.setLineDash([6, 4]); ctx.lineWidth = 2;
    for (const s of boundaries) { const x = u.valToPos(s, 'x', true); if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue; ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke(); }
    ctx.restore();
  }] } };
  const width = () => Math.max(320, Math.min(1100, window.innerWidth - 40));
  const chart = (el, title, series, range, xLabel = 'step') => new uPlot({ title, width: width(), height: 220, plugins: xLabel === 'step' ? [boundaryPlugin] : [],
    scales: { x: { time: false }, ...(range ? { y: { range } } : {}) }, axes: [{ label: xLabel }, { size: 64 }],
    series: [{ label: 'step' }, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: true, points: { show: false } }))] },
    [[], ...series.map(() => [])], $(el));
  const acc = chart('accuracy', 'Accuracy (%)', [['running (epoch)', '#1f77b4'], ['prequential (window)', '#2ca02c'], ['prequential (cumulative)', '#ff7f0e']], [0, 100]);
  const loss = chart('loss', 'Loss', [['training loss', '#9467bd'], ['prequential loss', '#8c564b'], ['training MAE (regression)', '#1f77b4'], ['prequential MAE, window (regression)', '#ff7f0e']]);
  const speed = chart('throughput', 'Throughput (samples/s wall, since the experience started)', [['samples/s wall', '#17becf']]);
  function redraw() {
    if (!dirty) return; dirty = false;
    const steps = [...rows.keys()].sort((a, b) => a - b);
    const col = (i) => steps.map((s) => rows.get(s)[i]);
    acc.setData([steps, col(0), col(1), col(2)]);
    loss.setData([steps, col(3), col(4), col(6), col(7)]);
    speed.setData([steps, col(5)]);
    renderMatrix();
    $('boundaries').textContent = boundaries.length ? boundaries.length + (boundaries.length > 8 ? ' (last at ' + boundaries.slice(-8).join(', ') + ')' : ' (at ' + boundaries.join(', ') + ')') : 'none';
    if (steps.length > 0) window.__engramChartUpdates++;
  }
  function renderMatrix() {
    const afters = [...matrix.keys()].sort((a, b) => a - b);
    if (!afters.length) return;
    const exps = [...new Set(afters.flatMap((a) => [...matrix.get(a).keys()]))].sort((a, b) => a - b);
    const worst = Math.max(1e-12, ...afters.flatMap((a) => [...matrix.get(a).values()]));
    const cell = (v) => v === undefined ? '<td></td>' : regression
      ? '<td style="background:hsl(' + Math.round((1 - v / worst) * 120) + ',70%,85%)">' + v.toFixed(4) + '</td>'
      : '<td style="background:hsl(' + Math.round(v * 120) + ',70%,85%)">' + (v * 100).toFixed(1) + '</td>';
    $('matrix').innerHTML = '<tr><th>after \\ on</th>' + exps.map((e) => '<th>' + e + '</th>').join('') + '</tr>' +
      afters.map((a) => '<tr><th>' + (a < 0 ? 'initial' : a) + '</th>' + exps.map((e) => cell(matrix.get(a).get(e))).join('') + '</tr>').join('');
  }
  function asRegression() {
    if (regression) return;
    regression = true; $('accuracy').style.display = 'none'; $('matrix-title').textContent = 'MAE matrix (target units, lower is better)';
  }
  function on(e) {
    switch (e.type) {
      case 'run-start': name = e.name; $('name').textContent = e.name + ' (' + e.mode + ', ' + e.backend + ')'; status = 'training'; break;
      // a regression run's MAE (the epoch's running training MAE, or a stream's prequential window MAE) goes on the loss chart
      case 'batch-end': { const r = row(e.step); if (e.epochMae !== undefined) { asRegression(); r[6] = e.epochMae; } else r[0] = e.epochAccuracy * 100; r[3] = e.loss; r[5] = e.samplesPerSecond; break; }
      case 'prequential': { const r = row(e.step); if (e.mae !== undefined) { asRegression(); r[7] = e.windowMae; } else { r[1] = e.windowAccuracy * 100; r[2] = e.accuracy * 100; } r[4] = e.loss; break; }
      case 'boundary': boundaries.push(e.step); break;
      case 'evaluation': {
        // a regression run's results carry errors: the matrix shows MAE (target units) and the accuracy chart goes
        if (e.results.some((x) => x.mae !== undefined)) asRegression();
        const m = new Map(); for (const x of e.results) m.set(x.experience, regression ? x.mae : x.accuracy); matrix.set(e.afterExperience, m); break;
      }
      case 'run-end': status = e.status || 'ended'; break;
      default: return;
    }
    $('status').textContent = status; dirty = true;
  }
  const source = new EventSource('/events');
  const types = ['run-start', 'batch-end', 'prequential', 'boundary', 'evaluation', 'run-end'];
  for (const t of types) source.addEventListener(t, (m) => on(JSON.parse(m.data)));
  source.onerror = () => { if (status === 'training') $('status').textContent = 'disconnected (retrying)'; };
  setInterval(redraw, 250);
  const poll = () => fetch('/readyz').then((r) => r.json()).then((b) => { $('version').textContent = b.ready ? 'v' + b.model.version + ' (step ' + b.model.step + ', experience ' + b.model.experience + ')' : 'none yet'; }).catch(() => undefined);
  poll(); setInterval(poll, 2000);
  // Served vs latest version with their gate scores, and the delayed-label prequential accuracy of the
  // served and the shadow predictions (GET /versions), plotted against labels received.
  const fb = chart('feedback', 'Prequential accuracy on feedback (delayed labels)', [['served', '#2ca02c'], ['shadow (latest unpromoted)', '#d62728']], [0, 1], 'labels received');
  const fbRows = [[], [], []];
  const pct = (a) => a === undefined || a === null ? '–' : (a * 100).toFixed(1) + '%';
  const describe = (r) => !r ? 'none' : 'v' + r.version + ' (step ' + r.step + ') — ' + r.decision + (r.feedback ? ', feedback ' + pct(r.feedback.accuracy) + ' on ' + r.feedback.labelled : '') +
    (r.checks || []).map((c) => ' · ' + c.name + (c.experience !== undefined ? ' e' + c.experience : c.slice ? ' ' + c.slice : '') + ': ' + (c.candidate !== undefined ? pct(c.candidate) + ' vs served ' + pct(c.served) : c.samples + ' samples') + (c.passed ? ' ✓' : ' ✗')).join('');
  const pollVersions = () => fetch('/versions').then((r) => r.json()).then((b) => {
    const byV = new Map(b.versions.map((r) => [r.version, r]));
    $('served').textContent = describe(b.served && byV.get(b.served.version));
    $('latest').textContent = b.latest && b.served && b.latest.version !== b.served.version ? describe(byV.get(b.latest.version)) : 'same as served';
    $('gates').textContent = b.gated ? b.counts.promoted + ' promoted, ' + b.counts.rejected + ' rejected' : 'off (serve.promote not set)';
    const n = b.feedback.served.labelled + b.feedback.shadow.labelled;
    if (n > 0 && fbRows[0][fbRows[0].length - 1] !== b.feedback.served.labelled) {
      fbRows[0].push(b.feedback.served.labelled); fbRows[1].push(b.feedback.served.windowAccuracy); fbRows[2].push(b.feedback.shadow.labelled ? b.feedback.shadow.windowAccuracy : null);
      if (fbRows[0].length > MAX) for (const r of fbRows) r.shift();
      fb.setData(fbRows);
    }
  }).catch(() => undefined);
  pollVersions(); setInterval(pollVersions, 2000);
  window.addEventListener('resize', () => { for (const c of [acc, loss, speed, fb]) c.setSize({ width: width(), height: 220 }); });
})();
`;

/** The dashboard (`GET /`): one self-contained page — uPlot and the client inlined, nothing fetched but this server's own endpoints. */
export function dashboardPage(): string {
  const { js, css } = uplotAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Engram live</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>${inline(css)}
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
header { display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0 0 8px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
section { margin: 12px 0; }
</style></head>
<body>
<header><h1>Engram — <span id="name">waiting for the run</span></h1>
<div>status: <b id="status">connecting</b></div><div>served model: <b id="version">none yet</b></div>
<div>drift boundaries (steps): <b id="boundaries">none</b></div></header>
<section id="accuracy"></section>
<section id="loss"></section>
<section id="throughput"></section>
<section><h2 style="font-size:16px">Model versions</h2>
<div>promotion gates: <b id="gates">–</b></div><div>served: <span id="served">none yet</span></div>
<div>latest: <span id="latest">none yet</span></div></section>
<section id="feedback"></section>
<section><h2 style="font-size:16px" id="matrix-title">Accuracy matrix (%)</h2><table id="matrix"><tr><td>no evaluation yet</td></tr></table></section>
<script>${inline(js)}</script>
<script>${inline(CLIENT)}</script>
</body></html>
`;
}
