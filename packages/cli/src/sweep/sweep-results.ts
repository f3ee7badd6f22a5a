import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '@engram/core';
import { formatTable } from '../report/render-comparison.js';
import { fmtPct } from '../report/report-html.js';
import { formatSeedStat, groupOverSeeds, seedPointers, type SeedGroup } from './seed-groups.js';
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
  /** Swept pointers that are seeds (`/seed`, `…/seed`): combinations differing only in them form a group. */
  readonly seedPointers: readonly string[];
  /** The combinations grouped over seeds, ranked by the mean of the metric (one group per combination without seeds). */
  readonly groups: readonly SeedGroup[];
  /** The ranked table as printed (figures in percent; over seeds as mean ± sd with n when seeds were swept). */
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
  const groups = groupOverSeeds(plan.pointers, rows, plan.metric, plan.goal); // in sweep order
  const seeds = seedPointers(plan.pointers);
  const table = resultsRows(plan.pointers, combinations, seeds, groups);
  return {
    name: plan.name,
    sweep: plan.file,
    pipeline: plan.baseFile,
    metric: plan.metric,
    goal: plan.goal,
    pointers: plan.pointers,
    combinations,
    seedPointers: seeds,
    groups,
    table: formatTable(table.header, table.rows),
  };
}

/**
 * The ranked table's header and cells (printed as text, drawn as an HTML table by the report). Without
 * seed pointers: one row per combination (rank, name, swept values, ACC, BWT, forgetting, prequential
 * accuracy in percent, status). With them: one row per group of seeds, ranked by the mean — the other
 * swept values, each figure as `mean ± sd%`, `n` (seeds finished) and failures.
 */
export function resultsRows(
  pointers: readonly string[],
  results: readonly CombinationResult[],
  seeds: readonly string[] = [],
  groups: readonly SeedGroup[] = [],
): { header: string[]; rows: string[][] } {
  if (seeds.length > 0) {
    const others = pointers.filter((p) => !seeds.includes(p));
    return {
      header: ['rank', ...others, 'ACC', 'BWT', 'forgetting', 'preq. acc', 'n', 'failed'],
      rows: groups.map((g) => [
        g.rank === null ? '—' : String(g.rank),
        ...others.map((p) => JSON.stringify(g.setting[p])),
        formatSeedStat(g.stats.ACC),
        formatSeedStat(g.stats.BWT, true),
        formatSeedStat(g.stats.forgetting),
        formatSeedStat(g.stats.prequentialAccuracy),
        String(g.combinations.length - g.failed),
        String(g.failed),
      ]),
    };
  }
  return {
    header: ['rank', 'combination', ...pointers, 'ACC', 'BWT', 'forgetting', 'preq. acc', 'status'],
    rows: results.map((r) => [
      r.rank === null ? '—' : String(r.rank),
      r.name,
      ...pointers.map((p) => JSON.stringify(r.overrides[p])),
      fmtPct(r.ACC),
      fmtPct(r.BWT, true),
      fmtPct(r.forgetting),
      fmtPct(r.prequentialAccuracy),
      r.status,
    ]),
  };
}

/** Writes `DIR/sweep.json`. */
export async function writeResults(outDir: string, results: SweepResults): Promise<string> {
  const file = join(outDir, 'sweep.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`, 'utf8');
  return file;
}
