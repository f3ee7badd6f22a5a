import type { JsonValue, StateArray } from '../plugin-api/serialized-state.js';

/** Prequential error figures of a regression stream (target units); all 0 before any sample. */
export interface PrequentialErrorSnapshot {
  /** Cumulative mean absolute error over every target of every sample so far. */
  mae: number;
  /** MAE over the last `window` samples. */
  windowMae: number;
  /** Fading-factor MAE S_α / N_α (recent samples weigh more). */
  fadingMae: number;
  /** Cumulative root mean squared error. */
  rmse: number;
  /** RMSE over the last `window` samples. */
  windowRmse: number;
}

/**
 * Prequential (test-then-train) error of a regression stream, the regression twin of the accuracy in
 * {@link PrequentialAccuracy}: each sample is predicted before the model trains on it, and its error
 * e_i = mean over its k targets of |ŷ − y| (and of (ŷ − y)²) is recorded.
 *
 * - cumulative: MAE(n) = (1/n) Σ e_i, RMSE(n) = sqrt((1/n) Σ s_i)
 * - sliding window of w samples: the same over the last min(n, w) samples
 * - fading factor α: S(n) = e_n + α S(n-1), N(n) = 1 + α N(n-1), MAE_α(n) = S(n) / N(n)
 *
 * With k targets per sample every sample weighs the same, so the cumulative MAE equals the MAE over
 * every target value (as `engram eval` computes it). Owned by {@link PrequentialAccuracy}, whose
 * checkpoint state carries this one's; holds no tensors.
 */
export class PrequentialError {
  private readonly ringAbsolute: Float64Array;
  private readonly ringSquared: Float64Array;
  private head = 0;
  private filled = 0;
  /** Samples recorded so far. */
  samples = 0;
  private absoluteSum = 0;
  private squaredSum = 0;
  private windowAbsolute = 0;
  private windowSquared = 0;
  private fadingS = 0;
  private fadingN = 0;

  constructor(
    private readonly window: number,
    private readonly fading: number,
  ) {
    this.ringAbsolute = new Float64Array(window);
    this.ringSquared = new Float64Array(window);
  }

  /**
   * Records a batch's predictions `outputs` against its `targets` (both `n * k`, row-major, `n`
   * samples) in order. Throws when the lengths differ or do not split into `n` rows.
   */
  addBatch(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number): PrequentialErrorSnapshot {
    if (outputs.length !== targets.length || n <= 0 || targets.length % n !== 0)
      throw new RangeError(
        `prequential error: ${outputs.length} outputs for ${targets.length} targets of ${n} samples`,
      );
    const k = targets.length / n;
    for (let i = 0; i < n; i++) {
      let absolute = 0;
      let squared = 0;
      for (let j = i * k; j < (i + 1) * k; j++) {
        const e = (outputs[j] as number) - (targets[j] as number);
        absolute += Math.abs(e);
        squared += e * e;
      }
      this.add(absolute / k, squared / k);
    }
    return this.snapshot();
  }

  private add(absolute: number, squared: number): void {
    if (this.filled === this.window) {
      this.windowAbsolute -= this.ringAbsolute[this.head] ?? 0;
      this.windowSquared -= this.ringSquared[this.head] ?? 0;
    } else this.filled++;
    this.ringAbsolute[this.head] = absolute;
    this.ringSquared[this.head] = squared;
    this.head = (this.head + 1) % this.window;
    this.windowAbsolute += absolute;
    this.windowSquared += squared;
    this.samples++;
    this.absoluteSum += absolute;
    this.squaredSum += squared;
    this.fadingS = absolute + this.fading * this.fadingS;
    this.fadingN = 1 + this.fading * this.fadingN;
  }

  /** The current figures (0 before the first sample). */
  snapshot(): PrequentialErrorSnapshot {
    const n = this.samples;
    const w = this.filled;
    return {
      mae: n === 0 ? 0 : this.absoluteSum / n,
      windowMae: w === 0 ? 0 : Math.max(0, this.windowAbsolute) / w,
      fadingMae: this.fadingN === 0 ? 0 : this.fadingS / this.fadingN,
      rmse: n === 0 ? 0 : Math.sqrt(this.squaredSum / n),
      windowRmse: w === 0 ? 0 : Math.sqrt(Math.max(0, this.windowSquared) / w),
    };
  }

  /** Counters (JSON) and the window (the float64 values' bytes as int32 pairs, bit-exact). */
  state(): { meta: { [key: string]: JsonValue }; arrays: Record<string, StateArray> } {
    const raw = (values: Float64Array): StateArray => ({
      dtype: 'int32',
      shape: [values.length * 2],
      data: new Int32Array(values.slice().buffer),
    });
    return {
      meta: {
        head: this.head,
        filled: this.filled,
        samples: this.samples,
        absoluteSum: this.absoluteSum,
        squaredSum: this.squaredSum,
        windowAbsolute: this.windowAbsolute,
        windowSquared: this.windowSquared,
        fadingS: this.fadingS,
        fadingN: this.fadingN,
      },
      arrays: { errorAbsolute: raw(this.ringAbsolute), errorSquared: raw(this.ringSquared) },
    };
  }

  /** Restores what {@link state} returned (same window); `num` reads a checked meta number. */
  restore(num: (key: string) => number, arrays: Readonly<Record<string, StateArray>> | undefined): void {
    const read = (name: string, into: Float64Array): void => {
      const data = arrays?.[name]?.data;
      if (data?.length !== this.window * 2)
        throw new RangeError(`prequential state: array '${name}' must hold ${this.window} float64 values`);
      into.set(new Float64Array(Int32Array.from(data).buffer));
    };
    read('errorAbsolute', this.ringAbsolute);
    read('errorSquared', this.ringSquared);
    this.head = num('head');
    this.filled = num('filled');
    this.samples = num('samples');
    this.absoluteSum = num('absoluteSum');
    this.squaredSum = num('squaredSum');
    this.windowAbsolute = num('windowAbsolute');
    this.windowSquared = num('windowSquared');
    this.fadingS = num('fadingS');
    this.fadingN = num('fadingN');
  }
}
