import { quietMedian } from './bench-stats.js';

/**
 * The pure parts of `bench:redis`: the order its cases run in, round by round, and how the rounds are
 * summarised (medians over the quiet rounds when there are any, ratios taken within a round).
 */

/** The bench's cases: `jsonl-follow`, `redis-stream`, and `jsonl-follow` with the `redis-stream` events logger. */
export type RedisCase = 'jsonl' | 'redis' | 'logged';

/** The cases in their base order. */
export const REDIS_CASES: readonly RedisCase[] = ['jsonl', 'redis', 'logged'];

/**
 * The order of `cases` in measured round `round` (0-based): the base order rotated by `round`, and in
 * every other cycle of `cases.length` rounds the reversed order rotated. The first cycle is a Latin
 * square (each case runs once in each position); two cycles are a Williams design (each case runs
 * right after each other case equally often), so neither a position nor a predecessor favours a case.
 */
export function roundOrder<T>(cases: readonly T[], round: number): T[] {
  const n = cases.length;
  if (n === 0) return [];
  if (!Number.isInteger(round) || round < 0) throw new Error(`round must be a non-negative integer, got ${round}`);
  const base = Math.floor(round / n) % 2 === 1 ? [...cases].reverse() : [...cases];
  const k = round % n;
  return [...base.slice(k), ...base.slice(0, k)];
}

/** One measured round: records/s of every case, in the order they ran, and how quiet the machine was. */
export interface RedisRound {
  readonly round: number;
  readonly order: readonly RedisCase[];
  readonly rates: Readonly<Record<RedisCase, number>>;
  /** CPU other processes used during the round, in cores (null without `/proc`). */
  readonly othersCores: number | null;
  /** 1-minute load average at the round's end (null without `/proc`). */
  readonly load1: number | null;
  readonly quiet: boolean;
}

/** A round with the ratios taken within it. */
export interface RedisRoundRow extends RedisRound {
  /** redis / jsonl of this round. */
  readonly ratio: number;
  /** 100 × (1 − logged / jsonl) of this round. */
  readonly loggerOverheadPercent: number;
}

/** The rounds summarised. */
export interface RedisSummary {
  /** Median records/s per case. */
  readonly medians: Readonly<Record<RedisCase, number>>;
  /** Median of the per-round redis / jsonl ratios (goal ≥ 0.9). */
  readonly ratio: number;
  /** Median of the per-round logger overheads, in % (goal ≤ 5). */
  readonly loggerOverheadPercent: number;
  /** Rounds the medians are taken over. */
  readonly roundsUsed: number;
  /** True when only quiet rounds were used (there was at least one). */
  readonly quietOnly: boolean;
  readonly rows: RedisRoundRow[];
}

/**
 * Per-round ratios, then medians over the quiet rounds when any round was quiet (else over all).
 * A ratio is taken within one round, where both of its cases ran close together under the same load.
 */
export function summariseRedisRounds(rounds: readonly RedisRound[]): RedisSummary {
  const rows = rounds.map((r) => ({
    ...r,
    ratio: r.rates.redis / r.rates.jsonl,
    loggerOverheadPercent: 100 * (1 - r.rates.logged / r.rates.jsonl),
  }));
  const over = (f: (r: RedisRoundRow) => number): ReturnType<typeof quietMedian> =>
    quietMedian(rows.map((r) => ({ value: f(r), quiet: r.quiet })));
  const ratio = over((r) => r.ratio);
  return {
    medians: {
      jsonl: over((r) => r.rates.jsonl).value,
      redis: over((r) => r.rates.redis).value,
      logged: over((r) => r.rates.logged).value,
    },
    ratio: ratio.value,
    loggerOverheadPercent: over((r) => r.loggerOverheadPercent).value,
    roundsUsed: ratio.rounds,
    quietOnly: ratio.quietOnly,
    rows,
  };
}
