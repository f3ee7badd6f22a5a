import {
  Type,
  type BoundaryDetector,
  type ComponentDescriptor,
  type JsonValue,
  type SerializedState,
  type Static,
  StringEnum,
} from '@engram/core';
import { metaNumber, metaObject } from '../common/tensor-state.js';

/** Options of the `adwin` detector (River's defaults). */
export const AdwinOptions = Type.Object(
  {
    delta: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.002,
      description: 'Confidence δ of the cut test (smaller = fewer false alarms).',
    }),
    clock: Type.Integer({ minimum: 1, default: 32, description: 'The cut test runs every this many samples.' }),
    maxBuckets: Type.Integer({ minimum: 2, default: 5, description: 'Buckets kept per size before two are merged.' }),
    minWindowLength: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'Minimum length of each sub-window of a cut.',
    }),
    gracePeriod: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Samples observed before a change can be detected.',
    }),
    direction: StringEnum(['increase', 'any'] as const, {
      default: 'increase',
      description: 'Signal a boundary only when the loss mean rose ("increase"), or on any change.',
    }),
  },
  { additionalProperties: false },
);

/** One row of the exponential histogram: buckets of 2^row samples, oldest first. */
interface Row {
  totals: number[];
  variances: number[];
}

/**
 * ADWIN, adaptive windowing (Bifet & Gavaldà 2007, "Learning from Time-Changing Data with Adaptive
 * Windowing"), over the prequential per-sample loss, following River's `drift.ADWIN`: an exponential
 * histogram of bucket sums and variances; every `clock` samples, each split of the window into an older
 * part W0 and a newer part W1 is tested with
 * `|μ0 − μ1| ≥ sqrt(2·m·σ²·δ′) + 2/3·δ′·m`, `m = 1/(n0 − ℓ + 1) + 1/(n1 − ℓ + 1)`, `δ′ = ln(2·ln(n)/δ)`;
 * on a cut the oldest buckets are dropped and a change is reported.
 */
export class AdwinDetector implements BoundaryDetector {
  reason = 'adwin drift';
  private rows: Row[] = [{ totals: [], variances: [] }];
  private total = 0;
  private variance = 0;
  private width = 0;
  private tick = 0;

  constructor(private readonly options: Static<typeof AdwinOptions>) {}

  /** Samples in the current window. */
  get windowLength(): number {
    return this.width;
  }

  /** Mean of the current window. */
  get estimation(): number {
    return this.width > 0 ? this.total / this.width : 0;
  }

  /** Feeds one value; true when a change was detected at this step. */
  updateOne(x: number): boolean {
    this.tick++;
    if (this.width > 0) this.variance += (this.width * (x - this.total / this.width) ** 2) / (this.width + 1);
    this.width++;
    this.total += x;
    (this.rows[0] as Row).totals.push(x);
    (this.rows[0] as Row).variances.push(0);
    this.compress();
    return this.detect();
  }

  update(losses: Float32Array): boolean {
    let change = false;
    for (const x of losses) change = this.updateOne(x) || change;
    return change;
  }

  private compress(): void {
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i] as Row;
      if (row.totals.length <= this.options.maxBuckets) break;
      const next = this.rows[i + 1] ?? { totals: [], variances: [] };
      if (i + 1 >= this.rows.length) this.rows.push(next);
      const n = 2 ** i;
      const [t1, t2] = row.totals.splice(0, 2) as [number, number];
      const [v1, v2] = row.variances.splice(0, 2) as [number, number];
      next.totals.push(t1 + t2);
      next.variances.push(v1 + v2 + (n * n * (t1 / n - t2 / n) ** 2) / (2 * n));
    }
  }

  private detect(): boolean {
    if (this.tick % this.options.clock !== 0 || this.width <= this.options.gracePeriod) return false;
    let change = false;
    let reduce = true;
    while (reduce) {
      reduce = false;
      let n0 = 0,
        u0 = 0;
      let n1 = this.width,
        u1 = this.total;
      scan: for (let i = this.rows.length - 1; i >= 0; i--) {
        const row = this.rows[i] as Row;
        const n2 = 2 ** i;
        for (let k = 0; k < row.totals.length; k++) {
          const u2 = row.totals[k] as number;
          n0 += n2;
          u0 += u2;
          n1 -= n2;
          u1 -= u2;
          if (n1 < this.options.minWindowLength) break scan;
          if (n0 < this.options.minWindowLength) continue;
          const diff = u0 / n0 - u1 / n1;
          if (this.cut(n0, n1, diff)) {
            if (this.options.direction === 'any' || diff < 0) change = true;
            this.deleteOldest();
            reduce = this.width > 0;
            break scan;
          }
        }
      }
    }
    return change;
  }

  private cut(n0: number, n1: number, diff: number): boolean {
    const l = this.options.minWindowLength;
    const deltaPrime = Math.log((2 * Math.log(this.width)) / this.options.delta);
    const m = 1 / (n0 - l + 1) + 1 / (n1 - l + 1);
    const eps = Math.sqrt(2 * m * (this.variance / this.width) * deltaPrime) + (2 / 3) * deltaPrime * m;
    return Math.abs(diff) >= eps;
  }

  private deleteOldest(): void {
    const i = this.rows.length - 1;
    const row = this.rows[i] as Row;
    const n = 2 ** i;
    const u = row.totals.shift() as number;
    const v = row.variances.shift() as number;
    this.width -= n;
    this.total -= u;
    if (this.width > 0)
      this.variance -= v + (n * this.width * (u / n - this.total / this.width) ** 2) / (n + this.width);
    else this.variance = 0;
    if (this.variance < 0) this.variance = 0;
    if (row.totals.length === 0 && this.rows.length > 1) this.rows.pop();
  }

  state(): SerializedState {
    return {
      meta: {
        rows: this.rows as unknown as JsonValue,
        total: this.total,
        variance: this.variance,
        width: this.width,
        tick: this.tick,
      },
    };
  }

  restore(state: SerializedState): void {
    const m = metaObject(state.meta, 'adwin');
    this.rows = (m['rows'] as Row[]).map((r) => ({ totals: [...r.totals], variances: [...r.variances] }));
    this.total = metaNumber(m, 'total', 'adwin');
    this.variance = metaNumber(m, 'variance', 'adwin');
    this.width = metaNumber(m, 'width', 'adwin');
    this.tick = metaNumber(m, 'tick', 'adwin');
  }
}

/** Registration of `adwin`. */
export const adwinDescriptors: ComponentDescriptor[] = [
  {
    role: 'detector',
    kind: 'adwin',
    description: 'ADWIN adaptive windowing (Bifet & Gavaldà 2007, River defaults) on the prequential loss.',
    options: AdwinOptions,
    create: (o) => new AdwinDetector(o as Static<typeof AdwinOptions>),
  },
];
