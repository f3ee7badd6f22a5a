import type { SeriesPoint } from '@engram/core/internal';

/** One bucket of consecutive values: its lowest and highest point (x of each) and its last x. */
interface Bucket {
  minX: number;
  min: number;
  maxX: number;
  max: number;
  n: number;
}

/**
 * Downsamples a long series for a line chart without hiding spikes: every value is kept while there
 * are at most `2 × maxBuckets` of them; beyond that, consecutive values are grouped into buckets of a
 * doubling size and each bucket contributes its minimum and its maximum, in x order (so a loss spike
 * or dip of one batch stays visible, unlike a mean or every n-th point). O(maxBuckets) memory, for
 * reading metrics.jsonl files of any size in the report. Holds no tensors.
 */
export class MinMaxSeries {
  private buckets: Bucket[] = [];
  private size = 1;
  private open: Bucket | undefined;

  constructor(private readonly maxBuckets = 1000) {
    if (!Number.isInteger(maxBuckets) || maxBuckets < 2)
      throw new RangeError(`maxBuckets must be an integer ≥ 2, got ${maxBuckets}`);
  }

  /** Adds one value at `x` (x increasing); non-finite values are skipped. */
  add(x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    const b = this.open;
    if (b === undefined) this.open = { minX: x, min: y, maxX: x, max: y, n: 1 };
    else {
      if (y < b.min) Object.assign(b, { min: y, minX: x });
      if (y > b.max) Object.assign(b, { max: y, maxX: x });
      b.n++;
    }
    if ((this.open as Bucket).n >= this.size) {
      this.buckets.push(this.open as Bucket);
      this.open = undefined;
      if (this.buckets.length >= 2 * this.maxBuckets) this.merge();
    }
  }

  private merge(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const a = this.buckets[i] as Bucket;
      const b = this.buckets[i + 1];
      if (b === undefined) merged.push(a);
      else
        merged.push({
          ...(a.min <= b.min ? { min: a.min, minX: a.minX } : { min: b.min, minX: b.minX }),
          ...(a.max >= b.max ? { max: a.max, maxX: a.maxX } : { max: b.max, maxX: b.maxX }),
          n: a.n + b.n,
        });
    }
    this.buckets = merged;
    this.size *= 2;
  }

  /** The points to draw, in x order: each bucket's min and max (one point when they are the same value). */
  series(): SeriesPoint[] {
    const all = this.open ? [...this.buckets, this.open] : this.buckets;
    return all.flatMap((b) => {
      if (b.minX === b.maxX) return [{ x: b.minX, y: b.min }];
      const lo = { x: b.minX, y: b.min };
      const hi = { x: b.maxX, y: b.max };
      return lo.x < hi.x ? [lo, hi] : [hi, lo];
    });
  }
}
