import type { RunSummary } from '@engram/core';
import { ranRows } from './chart-specs.js';
import { escapeHtml, page } from './chart-page.js';

export { escapeHtml } from './chart-page.js';

/** A number with `digits` decimals, `—` for null/undefined; `signed` prefixes + for positives. */
export function fmt(v: number | null | undefined, digits = 3, signed = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${signed && v > 0 ? '+' : ''}${v.toFixed(digits)}`;
}

/**
 * An accuracy (or a difference of accuracies: BWT, FWT, forgetting) stored as a fraction, shown in
 * percent with one decimal (`29.4%`, `-3.1%`); `—` for null/undefined. The one unit every table,
 * card and chart of the CLI uses; JSON files keep fractions.
 */
export function fmtPct(v: number | null | undefined, signed = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${signed && v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

/** Seconds as `12.3 s`, `4 min 05 s` or `2 h 03 min`. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * The run's whole wall time. `wallSeconds` already adds up the time of every process of a resumed
 * run; summaries written before that counted only the last one, so it is at least the time the
 * finished experiences took.
 */
export function totalWallSeconds(s: RunSummary): number {
  return Math.max(
    s.wallSeconds,
    s.perExperience.reduce((t, e) => t + e.wallSeconds, 0),
  );
}

/** What the report says about the run's inputs besides the summary: the experiences it was set up for. */
export interface RunContext {
  plannedExperiences: number | 'endless' | null;
}

/** One key figure for the KPI grid; the hint is its tooltip. */
function kpi(label: string, value: string, hint: string): string {
  return `<div class="kpi" title="${escapeHtml(hint)}"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`;
}

/** Key figures: prequential ones for a stream, ACC/BWT/FWT for experiences (those that exist), then cost. */
export function kpis(s: RunSummary, ctx: RunContext): string[] {
  const out: string[] = [];
  if (s.mode === 'stream') {
    const p = s.prequential;
    if (p?.mae !== undefined) {
      const units = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(4));
      out.push(
        kpi(
          'prequential MAE',
          units(p.mae),
          'test-then-train mean absolute error over the whole stream (target units)',
        ),
        kpi('window MAE', units(p.windowMae), 'prequential MAE over the last window of samples'),
        kpi('fading MAE', units(p.fadingMae), 'prequential MAE with exponential fading of old samples'),
        kpi('prequential RMSE', units(p.rmse), 'test-then-train root mean squared error over the whole stream'),
        kpi('samples', p.samples.toLocaleString('en'), 'stream samples seen'),
      );
    } else if (p !== null) {
      out.push(
        kpi(
          'prequential acc.',
          fmtPct(p.accuracy),
          'test-then-train accuracy over the whole stream (each batch scored before it is trained on)',
        ),
        kpi('window acc.', fmtPct(p.windowAccuracy), 'prequential accuracy over the last window of samples'),
        kpi('fading acc.', fmtPct(p.fadingAccuracy), 'prequential accuracy with exponential fading of old samples'),
        kpi('samples', p.samples.toLocaleString('en'), 'stream samples seen'),
      );
    }
    out.push(
      kpi('drift boundaries', String(s.driftPoints.length), 'drift points detected (each starts a new segment)'),
    );
  } else {
    const e = s.errors;
    if (e) {
      const errors: Array<[string, number | null, boolean, string]> = [
        ['MAE', e.averageMae, false, 'mean absolute error on all experiences after the last one (target units)'],
        ['RMSE', e.averageRmse, false, 'root mean squared error on all experiences after the last one'],
        ['forgetting', e.forgetting, true, 'mean increase of MAE from its best earlier value to the final one'],
        ['learning MAE', e.learningMae, false, 'MAE on each experience right after learning it'],
      ];
      for (const [label, v, signed, hint] of errors) if (v !== null) out.push(kpi(label, fmt(v, 4, signed), hint));
    } else {
      const figures: Array<[string, number | null, boolean, string]> = [
        ['ACC', s.averageAccuracy, false, 'average accuracy on all experiences after the last one'],
        ['BWT', s.bwt, true, 'backward transfer in percentage points; negative = forgetting'],
        ['FWT', s.fwt, true, 'forward transfer vs the untrained model, in percentage points'],
        ['forgetting', s.forgetting, false, 'mean drop from best to final accuracy, in percentage points'],
        ['learning acc.', s.learningAccuracy, false, 'accuracy on each experience right after learning it'],
      ];
      for (const [label, v, signed, hint] of figures) if (v !== null) out.push(kpi(label, fmtPct(v, signed), hint));
    }
    const planned = typeof ctx.plannedExperiences === 'number' ? ` of ${ctx.plannedExperiences}` : '';
    out.push(
      kpi(
        'experiences',
        `${ranRows(e ? e.maeMatrix : s.accuracyMatrix).length || s.experiences}${planned}`,
        'experiences trained (of those planned)',
      ),
    );
  }
  out.push(
    kpi('wall time', fmtSeconds(totalWallSeconds(s)), 'whole run, added up over resumes'),
    kpi(
      'samples/s (training only)',
      Number.isFinite(s.samplesPerSecond) ? Math.round(s.samplesPerSecond).toLocaleString('en') : '—',
      'rows trained (replay included) per second spent in training steps: evaluation, checkpoints and data loading not counted',
    ),
    kpi(
      'samples/s (wall)',
      totalWallSeconds(s) > 0 ? Math.round(s.trainSamples / totalWallSeconds(s)).toLocaleString('en') : '—',
      'records trained per second of the whole run wall time, evaluation and checkpoints included',
    ),
    kpi('steps', s.steps.toLocaleString('en'), 'optimizer steps'),
    kpi('peak RSS', `${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`, 'peak resident memory'),
  );
  const bad = Object.values(s.badRecords).reduce((a, b) => a + b, 0);
  if (bad > 0)
    out.push(
      kpi(
        'bad records',
        bad.toLocaleString('en'),
        `records refused at the door: ${Object.entries(s.badRecords)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}`,
      ),
    );
  if (s.skippedRows > 0)
    out.push(kpi('skipped rows', s.skippedRows.toLocaleString('en'), 'data-file rows skipped (badRows "skip")'));
  if (s.warnings > 0) out.push(kpi('warnings', String(s.warnings), 'warning events (see metrics.jsonl)'));
  return out;
}

/** A banner for a run that did not complete: where it stopped, and how to continue. */
export function statusBanner(s: RunSummary, ctx: RunContext): string {
  if (s.status === 'failed')
    return (
      `<p class="status failed"><b>This run failed</b>${s.error === null ? '' : `: ${escapeHtml(s.error)}`}. ` +
      `The figures cover what ran before the failure.</p>`
    );
  if (s.status !== 'stopped') return '';
  const why = s.stopped === null ? '' : ` by ${escapeHtml(s.stopped)}`;
  if (s.mode === 'stream') {
    return (
      `<p class="status stopped"><b>This run was stopped${why}</b> after ` +
      `${(s.prequential?.samples ?? 0).toLocaleString('en')} samples; it is resumable with <code>--resume</code>.</p>`
    );
  }
  const ran = ranRows(s.accuracyMatrix).length;
  const planned = typeof ctx.plannedExperiences === 'number' ? ` of ${ctx.plannedExperiences}` : '';
  return (
    `<p class="status stopped"><b>This run was stopped${why}</b> after ${ran}${planned} ` +
    `experience${ran === 1 ? '' : 's'}; it is resumable with <code>--resume</code>. ` +
    'ACC, BWT, FWT and forgetting are not computed for a stopped run; the charts show the experiences that ran.</p>'
  );
}

/** The header: pipeline name, strategy, scenario, backend, seed, status and the key figures. */
function header(s: RunSummary, ctx: RunContext): string {
  const meta = [
    `strategy <b>${escapeHtml(s.strategy)}</b>`,
    `scenario <b>${escapeHtml(s.scenario)}</b>`,
    `backend <b>${escapeHtml(s.backend)}</b>`,
    `seed <b>${s.seed}</b>`,
    `mode <b>${escapeHtml(s.mode)}</b>`,
  ];
  if (s.parameters !== null) meta.push(`<b>${s.parameters.toLocaleString('en')}</b> parameters`);
  return (
    `<header><h1>${escapeHtml(s.name)}</h1><p ` +
    `class="run-meta">${meta.join(' · ')}</p>${statusBanner(s, ctx)}<div class="kpis">${kpis(s, ctx).join('')}</div></header>`
  );
}

/** An HTML table; the columns in `text` are left-aligned, the others (numbers) right-aligned. */
const table = (head: readonly string[], rows: readonly (readonly string[])[], text: readonly number[] = []): string => {
  const cls = (c: number): string => (text.includes(c) ? ' class="text"' : '');
  return (
    `<div class="table-wrap"><table><tr>${head.map((h, c) => `<th${cls(c)}>${escapeHtml(h)}</th>`).join('')}</tr>` +
    rows.map((r) => `<tr>${r.map((v, c) => `<td${cls(c)}>${escapeHtml(v)}</td>`).join('')}</tr>`).join('') +
    '</table></div>'
  );
};

/** Tables and the pipeline below the charts. */
function details(s: RunSummary, drift: readonly { step: number; samples: number; reason: string }[]): string {
  const parts: string[] = [];
  if (drift.length > 0) {
    parts.push(
      '<h3>Drift boundaries</h3>',
      table(
        ['#', 'at sample', 'step', 'reason'],
        drift.map((d, k) => [String(k + 1), d.samples.toLocaleString('en'), String(d.step), d.reason]),
        [3],
      ),
    );
  }
  if (s.perExperience.length > 0) {
    parts.push(
      '<h3>Experiences</h3>',
      table(
        ['experience', 'wall time', 'samples', 'samples/s (wall)', 'loss', 'RSS MiB'],
        s.perExperience.map((e) => [
          String(e.experience),
          fmtSeconds(e.wallSeconds),
          e.samples.toLocaleString('en'),
          fmt(e.samplesPerSecond, 0),
          fmt(e.loss),
          (e.rssBytes / 2 ** 20).toFixed(0),
        ]),
      ),
    );
  }
  if (s.perClassAccuracy !== null) {
    parts.push(
      '<h3>Per-class accuracy (last evaluation)</h3>',
      table(
        ['class', ...s.perClassAccuracy.map((_, c) => String(c))],
        [['accuracy', ...s.perClassAccuracy.map((a) => fmtPct(a))]],
        [0],
      ),
    );
  }
  parts.push(
    `<details><summary>Pipeline</summary><pre>${escapeHtml(JSON.stringify(s.pipeline, null, 2) ?? 'null')}</pre></details>`,
  );
  return `<section class="details">${parts.join('\n')}</section>`;
}

/** The complete self-contained report page of one run. */
export function reportHtml(
  summary: RunSummary,
  charts: string,
  ctx: RunContext & { drift: readonly { step: number; samples: number; reason: string }[] },
): string {
  return page(`${summary.name} — engram report`, `${header(summary, ctx)}\n${charts}\n${details(summary, ctx.drift)}`);
}
