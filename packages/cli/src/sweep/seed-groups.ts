import { SWEEP_METRICS, type SweepMetric } from './sweep.schema.js';

/** Mean, sample standard deviation and count of one figure over a group's seeds. */
export interface SeedStat {
  /** Mean over the seeds that have the figure; null when none has it. */
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than two values. */
  readonly sd: number | null;
  /** Seeds that have the figure. */
  readonly n: number;
}

/** Combinations that differ only in their seed pointers: one setting of the other swept values. */
export interface SeedGroup {
  /** Rank by the mean of the ranking metric (best first); null when no seed of it finished. */
  readonly rank: number | null;
  /** The swept values other than seeds. */
  readonly setting: Readonly<Record<string, unknown>>;
  /** Its combinations (names), in sweep order. */
  readonly combinations: readonly string[];
  /** The seed values, in sweep order (one entry per combination; a combination without seed pointers has none). */
  readonly seeds: readonly unknown[];
  /** Combinations of the group that failed. */
  readonly failed: number;
  /** Every metric over the group's finished seeds. */
  readonly stats: Readonly<Record<SweepMetric, SeedStat>>;
}

/** What {@link groupOverSeeds} needs of a combination's outcome. */
export interface GroupedCombination {
  readonly name: string;
  readonly overrides: Readonly<Record<string, unknown>>;
  readonly status: 'done' | 'failed';
  readonly [metric: string]: unknown;
}

/**
 * Swept pointers that only repeat a run with another random stream: the pipeline's `/seed` and any
 * other pointer whose last token is `seed` (a data or scenario seed). Results are grouped over them.
 */
export function seedPointers(pointers: readonly string[]): string[] {
  return pointers.filter((p) => p.split('/').pop() === 'seed');
}

/** Mean, sample sd and n of the finite numbers among `values`. */
export function seedStat(values: readonly (number | null)[]): SeedStat {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, sd: null, n: 0 };
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const sd = xs.length < 2 ? null : Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, n: xs.length };
}

/**
 * Groups a sweep's combinations over its seed pointers (see {@link seedPointers}) and ranks the groups
 * by the mean of `metric` (`goal` max: highest first). Called once the combinations have finished,
 * for `DIR/sweep.json`, the printed table and the report; reads nothing else.
 */
export function groupOverSeeds(
  pointers: readonly string[],
  combinations: readonly GroupedCombination[],
  metric: SweepMetric,
  goal: 'max' | 'min',
): SeedGroup[] {
  const seeds = new Set(seedPointers(pointers));
  const others = pointers.filter((p) => !seeds.has(p));
  const groups = new Map<string, GroupedCombination[]>();
  for (const c of combinations) {
    const key = JSON.stringify(others.map((p) => c.overrides[p] ?? null));
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const built = [...groups.values()].map((members) => {
    const first = members[0] as GroupedCombination;
    const done = members.filter((m) => m.status === 'done');
    const stats = Object.fromEntries(
      SWEEP_METRICS.map((m) => [m, seedStat(done.map((c) => (typeof c[m] === 'number' ? c[m] : null)))]),
    ) as Record<SweepMetric, SeedStat>;
    return {
      setting: Object.fromEntries(others.map((p) => [p, first.overrides[p]])),
      combinations: members.map((m) => m.name),
      seeds: members
        .flatMap((m) => (seeds.size === 0 ? [] : [[...seeds].map((p) => m.overrides[p])]))
        .map((s) => (s.length === 1 ? s[0] : s)),
      failed: members.length - done.length,
      stats,
    };
  });
  const sign = goal === 'max' ? -1 : 1;
  const value = (g: (typeof built)[number]): number | null => g.stats[metric].mean;
  built.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return va === null ? (vb === null ? 0 : 1) : vb === null ? -1 : sign * (va - vb);
  });
  let rank = 0;
  return built.map((g) => ({ rank: value(g) === null ? null : ++rank, ...g }));
}

/** `62.3 ± 1.4%` (percent, one decimal; `±` left out for one seed), `—` when no seed has it. */
export function formatSeedStat(s: SeedStat, signed = false): string {
  if (s.mean === null) return '—';
  const mean = `${signed && s.mean > 0 ? '+' : ''}${(s.mean * 100).toFixed(1)}`;
  return s.sd === null ? `${mean}%` : `${mean} ± ${(s.sd * 100).toFixed(1)}%`;
}
