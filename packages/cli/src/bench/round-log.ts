import { quietMedian } from './bench-stats.js';
import { withQuietness, type Quietness } from './quietness.js';

/** Quietness of one measured round, as the JSON reports it. */
export interface RoundQuietness {
  readonly section: string;
  readonly round: number;
  readonly othersCores: number | null;
  readonly load1: number | null;
  readonly quiet: boolean;
}

/**
 * The values one bench section measured, round by round, with each round's quietness. Summaries are
 * medians over the quiet rounds when there are any (else over all rounds); a ratio is the median of
 * its per-round ratios, since both sides of a pair ran in the same round.
 */
export class RoundLog {
  private readonly rounds: Array<{ quiet: boolean; values: Map<string, number> }> = [];
  readonly quietness: RoundQuietness[] = [];

  /**
   * @param section name reported with each round's quietness
   * @param measure runs a round's body and says how quiet the machine was meanwhile (default: from `/proc`)
   */
  constructor(
    readonly section: string,
    private readonly measure: <T>(
      fn: () => Promise<T>,
    ) => Promise<{ result: T; quietness: Quietness | undefined }> = withQuietness,
  ) {}

  /** Runs one round; `record(key, value)` stores what it measured. Without `/proc` a round counts as not quiet. */
  async round(body: (record: (key: string, value: number) => void) => Promise<void>): Promise<Quietness | undefined> {
    const values = new Map<string, number>();
    const { quietness } = await this.measure(() => body((key, value) => void values.set(key, value)));
    const quiet = quietness?.quiet ?? false;
    this.rounds.push({ quiet, values });
    this.quietness.push({
      section: this.section,
      round: this.rounds.length - 1,
      othersCores: quietness ? round3(quietness.othersCores) : null,
      load1: quietness ? quietness.load1End : null,
      quiet,
    });
    return quietness;
  }

  /** Median of `key` over the quiet rounds (or all rounds when none was quiet); NaN when never measured. */
  value(key: string): number {
    return quietMedian(this.rounds.map((r) => ({ value: r.values.get(key) ?? NaN, quiet: r.quiet }))).value;
  }

  /** Median over rounds of `f(round's values)`, quiet rounds first as for {@link value}. */
  derived(f: (get: (key: string) => number) => number): number {
    return quietMedian(this.rounds.map((r) => ({ value: f((k) => r.values.get(k) ?? NaN), quiet: r.quiet }))).value;
  }

  /** Median of the per-round ratios `a / b`. */
  ratio(a: string, b: string): number {
    return this.derived((get) => get(a) / get(b));
  }

  /** Number of rounds, and of quiet ones. */
  get counts(): { rounds: number; quiet: number } {
    return { rounds: this.rounds.length, quiet: this.rounds.filter((r) => r.quiet).length };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
