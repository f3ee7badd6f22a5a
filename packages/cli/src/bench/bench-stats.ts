/**
 * Order statistics of the benchmark. Percentiles use the nearest-rank definition (the smallest value
 * with at least p % of the samples at or below it), as `bench/torch_bench.py` does, so the two sides
 * of a latency comparison are summarised the same way.
 */

/** Nearest-rank percentile `p` (0 < p ≤ 100) of `xs`; NaN for an empty list. NaN entries are ignored. */
export function percentile(xs: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((s.length * p) / 100));
  return s[Math.min(rank, s.length) - 1] as number;
}

/** Median of `xs` (the mean of the two middle values for an even count); NaN entries are ignored. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** One value measured in one round, with whether the machine was quiet during that round. */
export interface RoundValue {
  readonly value: number;
  readonly quiet: boolean;
}

/** Median over the quiet rounds when there are any, else over all rounds; says which it used. */
export function quietMedian(rounds: readonly RoundValue[]): { value: number; rounds: number; quietOnly: boolean } {
  const quiet = rounds.filter((r) => r.quiet && !Number.isNaN(r.value));
  const used = quiet.length > 0 ? quiet : rounds.filter((r) => !Number.isNaN(r.value));
  return { value: median(used.map((r) => r.value)), rounds: used.length, quietOnly: quiet.length > 0 };
}

/**
 * The rate of two runs over the same amount of work taken together: total work ÷ total time, i.e.
 * the harmonic mean of their rates (the arithmetic mean would overweight the faster run).
 */
export function meanRate(a: number, b: number): number {
  return 2 / (1 / a + 1 / b);
}
