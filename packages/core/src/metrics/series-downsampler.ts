/** One point of a downsampled series: `x` is the last x of the bucket, `y` the bucket's mean. */
export interface SeriesPoint {
  x: number;
  y: number;
}

/**
 * Keeps a bounded, evenly bucketed summary of a long series (loss per batch, prequential accuracy
 * per step) in O(maxPoints) memory: points are means of buckets of `bucketSize` consecutive values;
 * when the buffer exceeds `2 × maxPoints` adjacent buckets are merged pairwise and the bucket size
 * doubles. Used by the run recorder and the report while reading events; holds no tensors.
 */
export class SeriesDownsampler {
  private points: SeriesPoint[] = [];
  private bucketSize = 1;
  private sum = 0;
  private count = 0;
  private lastX = 0;
  private total = 0;
  private minY = Number.POSITIVE_INFINITY;
  private maxY = Number.NEGATIVE_INFINITY;
  private sumY = 0;
  private firstY: number | null = null;
  private lastY: number | null = null;

  constructor(private readonly maxPoints = 500) {
    if (!Number.isInteger(maxPoints) || maxPoints < 2)
      throw new RangeError(`maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  }

  /** Adds one value; non-finite values are ignored (a NaN loss must not poison the curve). */
  add(x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    this.total++;
    this.sumY += y;
    this.firstY ??= y;
    this.lastY = y;
    if (y < this.minY) this.minY = y;
    if (y > this.maxY) this.maxY = y;
    this.sum += y;
    this.count++;
    this.lastX = x;
    if (this.count === this.bucketSize) this.flushBucket();
  }

  private flushBucket(): void {
    this.points.push({ x: this.lastX, y: this.sum / this.count });
    this.sum = 0;
    this.count = 0;
    if (this.points.length >= 2 * this.maxPoints) {
      const merged: SeriesPoint[] = [];
      for (let i = 0; i + 1 < this.points.length; i += 2) {
        const a = this.points[i];
        const b = this.points[i + 1];
        if (a !== undefined && b !== undefined) merged.push({ x: b.x, y: (a.y + b.y) / 2 });
      }
      this.points = merged;
      this.bucketSize *= 2;
    }
  }

  /** The downsampled points so far, including a partial last bucket (≤ 2 × maxPoints). */
  series(): SeriesPoint[] {
    const out = this.points.slice();
    if (this.count > 0) out.push({ x: this.lastX, y: this.sum / this.count });
    return out;
  }

  /** Count, first, last, min, max and mean of every value added (not downsampled); null when empty. */
  stats(): { count: number; first: number; last: number; min: number; max: number; mean: number } | null {
    if (this.firstY === null || this.lastY === null) return null;
    return {
      count: this.total,
      first: this.firstY,
      last: this.lastY,
      min: this.minY,
      max: this.maxY,
      mean: this.sumY / this.total,
    };
  }
}
