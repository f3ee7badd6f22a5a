import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '@engram/core';
import { formatTable } from '../report/render-comparison.js';
import { fmt } from '../report/report-html.js';
import { completedSummary } from './sweep-job.js';
import type { SweepJob, SweepPlan } from './sweep-plan.js';
import type { SweepMetric } from './sweep.schema.js';

/** The outcome of one combination in `DIR/sweep.json`. */
export interface CombinationResult {
  readonly rank: number | null;
  readonly name: string;
  readonly dir: string;
  readonly overrides: Readonly<Record<string, unknown>>;
  readonly status: 'done' | 'failed';
  readonly error?: string;
  readonly ACC: number | null;
  readonly BWT: number | null;
  readonly FWT: number | null;
  readonly forgetting: number | null;
  readonly learningAccuracy: number | null;
  readonly prequentialAccuracy: number | null;
  /** The ranking metric's value. */
  readonly value: number | null;
}

/** `DIR/sweep.json`. */
export interface SweepResults {
  readonly name: string;
  readonly sweep: string;
  readonly pipeline: string;
  readonly metric: SweepMetric;
  readonly goal: 'max' | 'min';
  readonly pointers: readonly string[];
  /** Every combination, best first (failed ones last). */
  readonly combinations: readonly CombinationResult[];
  /** The ranked table as printed. */
  readonly table: string;
}

/** The figures of a summary, by metric name. */
export function metricsOf(s: RunSummary): Record<SweepMetric, number | null> {
  return {
    ACC: s.averageAccuracy,
    BWT: s.bwt,
    FWT: s.fwt,
    forgetting: s.forgetting,
    learningAccuracy: s.learningAccuracy,
    prequentialAccuracy: s.prequential?.accuracy ?? null,
  };
}

/** Why a combination without a completed summary failed: its summary's error, else that it has none. */
function failedCause(outDir: string): string {
  try {
    const s = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as { status?: unknown; error?: unknown };
    if (typeof s.error === 'string') return s.error;
    return `summary.json says status ${JSON.stringify(s.status)}`;
  } catch {
    return 'no readable summary.json';
  }
}

/**
 * Reads every combination's summary.json and ranks them. A combination is done only when its
 * summary says `"status": "completed"` and `errors` has no entry for it; anything else is failed.
 */
export function collectResults(
  plan: SweepPlan,
  jobs: readonly SweepJob[],
  errors: ReadonlyMap<string, string> = new Map(),
): SweepResults {
  const rows = jobs.map((job) => {
    const summary = errors.has(job.name) ? undefined : completedSummary(job.outDir);
    const m = summary
      ? metricsOf(summary)
      : { ACC: null, BWT: null, FWT: null, forgetting: null, learningAccuracy: null, prequentialAccuracy: null };
    const failed = summary === undefined;
    return {
      name: job.name,
      dir: job.outDir,
      overrides: job.overrides,
      status: failed ? ('failed' as const) : ('done' as const),
      ...(failed ? { error: errors.get(job.name) ?? failedCause(job.outDir) } : {}),
      ...m,
      value: m[plan.metric],
    };
  });
  const sign = plan.goal === 'max' ? -1 : 1;
  const ranked = [...rows].sort(
    (a, b) =>
      (a.value === null ? 1 : b.value === null ? -1 : sign * (a.value - b.value)) || a.name.localeCompare(b.name),
  );
  let rank = 0;
  const combinations = ranked.map((r) => ({ rank: r.value === null ? null : ++rank, ...r }));
  return {
    name: plan.name,
    sweep: plan.file,
    pipeline: plan.baseFile,
    metric: plan.metric,
    goal: plan.goal,
    pointers: plan.pointers,
    combinations,
    table: resultsTable(plan.pointers, combinations),
  };
}

/** The ranked text table: rank, name, swept values, ACC, BWT, forgetting, the metric. */
export function resultsTable(pointers: readonly string[], results: readonly CombinationResult[]): string {
  const header = ['rank', 'combination', ...pointers, 'ACC', 'BWT', 'forgetting', 'preq. acc', 'status'];
  const rows = results.map((r) => [
    r.rank === null ? '—' : String(r.rank),
    r.name,
    ...pointers.map((p) => JSON.stringify(r.overrides[p])),
    fmt(r.ACC, 4),
    fmt(r.BWT, 4, true),
    fmt(r.forgetting, 4),
    fmt(r.prequentialAccuracy, 4),
    r.status,
  ]);
  return formatTable(header, rows);
}

/** Writes `DIR/sweep.json`. */
export async function writeResults(outDir: string, results: SweepResults): Promise<string> {
  const file = join(outDir, 'sweep.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`, 'utf8');
  return file;
}
