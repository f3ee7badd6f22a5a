import { Counter, type Registry } from 'prom-client';

/**
 * A Prometheus counter fed with running totals instead of increments: the run reports how many samples,
 * steps or dropped records there are so far, and a `_total` metric must be a counter (Prometheus'
 * `rate()` and `increase()` assume it only grows, and treat a drop as a restart).
 *
 * {@link TotalCounter.setTotal} increments the counter by the growth since the last total it saw; a total
 * below the last one (a resumed run that counts again from its checkpoint) resets the series to it,
 * which is how a restarted process' counter looks to Prometheus.
 */
export class TotalCounter<L extends string = never> {
  private readonly counter: Counter<L>;
  private readonly last = new Map<string, number>();

  /** `read`, when given, is called at every scrape for the unlabelled series' current total. */
  constructor(config: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    registers: Registry[];
    read?: () => number;
  }) {
    const { read, ...metric } = config;
    const setTotal = (total: number): void => this.setTotal(total);
    this.counter = new Counter<L>({
      ...metric,
      labelNames: metric.labelNames ?? [],
      ...(read ? { collect: () => setTotal(read()) } : {}),
    });
  }

  /** Records that the total (of the series `labels`) is now `total`; non-finite or negative totals are ignored. */
  setTotal(total: number, labels?: Partial<Record<L, string | number>>): void {
    if (!Number.isFinite(total) || total < 0) return;
    const key = labels ? JSON.stringify(labels) : '';
    const before = this.last.get(key) ?? 0;
    this.last.set(key, total);
    if (total === before) return;
    if (total > before) {
      if (labels) this.counter.inc(labels, total - before);
      else this.counter.inc(total - before);
      return;
    }
    if (labels) {
      this.counter.remove(labels);
      this.counter.inc(labels, total);
    } else {
      this.counter.reset();
      this.counter.inc(total);
    }
  }
}
