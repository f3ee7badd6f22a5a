import type { SerializedState, StateArray } from '../plugin-api/serialized-state.js';
import { PrequentialError, type PrequentialErrorSnapshot } from './prequential-error.js';

/** Options of {@link PrequentialAccuracy}. */
export interface PrequentialOptions {
  /** Sliding-window length in samples (≥ 1). */
  window: number;
  /** Fading factor α in (0, 1]; 1 = no fading (equals the cumulative accuracy). */
  fading: number;
}

/** The accumulator's figures after the samples seen so far (all `null`-free; 0 before any sample). */
export interface PrequentialSnapshot {
  /** Samples seen. */
  samples: number;
  /** Cumulative prequential accuracy Σ c_i / n. */
  accuracy: number;
  /** Accuracy over the last `window` samples. */
  windowAccuracy: number;
  /** Fading-factor accuracy S_α / N_α (Gama et al. 2013). */
  fadingAccuracy: number;
  /** Cumulative mean loss. */
  loss: number;
  /** Mean loss over the last `window` samples. */
  windowLoss: number;
  /** A regression stream's prequential errors (set once {@link PrequentialAccuracy.addErrors} recorded a sample). */
  errors?: PrequentialErrorSnapshot;
}

/**
 * Prequential (test-then-train) accuracy of a stream (Gama, Sebastião & Rodrigues 2013, "On
 * evaluating stream learning algorithms"). Each sample is predicted before the model trains on it;
 * `add` records whether that prediction was correct (c_i ∈ {0, 1}) and its loss.
 *
 * - cumulative: A(n) = (1/n) Σ_{i≤n} c_i
 * - sliding window of w samples: A_w(n) = (1/min(n,w)) Σ_{i=n-w+1}^{n} c_i
 * - fading factor α: S(n) = c_n + α S(n-1), N(n) = 1 + α N(n-1), A_α(n) = S(n) / N(n)
 *   (S(0) = N(0) = 0; recent samples weigh more, α = 1 gives the cumulative accuracy).
 *
 * A regression stream records its predictions' errors too ({@link addErrors}: prequential MAE/RMSE,
 * cumulative, windowed and fading, see {@link PrequentialError}); its accuracy stays 0.
 *
 * Used by the stream engine (one `addBatch` per test step, then a `prequential` event) and by
 * observers. Holds no tensors; `state()`/`restore()` round-trip exactly for checkpoints.
 */
export class PrequentialAccuracy {
  private readonly window: number;
  private readonly fading: number;
  private readonly ringCorrect: Uint8Array;
  private readonly ringLoss: Float32Array;
  private head = 0;
  private filled = 0;
  private samples = 0;
  private correctSum = 0;
  private lossSum = 0;
  private windowCorrect = 0;
  private windowLossSum = 0;
  private fadingS = 0;
  private fadingN = 0;
  private readonly errors: PrequentialError;

  constructor(options: PrequentialOptions) {
    if (!Number.isInteger(options.window) || options.window < 1) {
      throw new RangeError(`prequential window must be a positive integer number of samples, got ${options.window}`);
    }
    if (!(options.fading > 0 && options.fading <= 1)) {
      throw new RangeError(`prequential fading factor must be in (0, 1], got ${options.fading}`);
    }
    this.window = options.window;
    this.fading = options.fading;
    this.ringCorrect = new Uint8Array(this.window);
    this.ringLoss = new Float32Array(this.window);
    this.errors = new PrequentialError(this.window, this.fading);
  }

  /**
   * Records a regression batch's errors (outputs against targets, `n * k` each, `n` samples) in the same
   * order as its {@link addBatch}; called by the stream engine's test step of a regression run.
   */
  addErrors(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number): PrequentialErrorSnapshot {
    return this.errors.addBatch(outputs, targets, n);
  }

  /** Records one test-then-train prediction: whether it was correct, and its loss (default 0). */
  add(correct: boolean | number, loss = 0): void {
    const c = correct === true || correct === 1 ? 1 : 0;
    const l = Math.fround(loss);
    if (this.filled === this.window) {
      this.windowCorrect -= this.ringCorrect[this.head] ?? 0;
      this.windowLossSum -= this.ringLoss[this.head] ?? 0;
    } else {
      this.filled++;
    }
    this.ringCorrect[this.head] = c;
    this.ringLoss[this.head] = l;
    this.head = (this.head + 1) % this.window;
    this.windowCorrect += c;
    this.windowLossSum += l;
    this.samples++;
    this.correctSum += c;
    this.lossSum += l;
    this.fadingS = c + this.fading * this.fadingS;
    this.fadingN = 1 + this.fading * this.fadingN;
  }

  /** Records a batch of predictions in order (`correct[i]` nonzero/true = correct) and returns the snapshot. */
  addBatch(correct: ArrayLike<number | boolean>, losses?: ArrayLike<number>): PrequentialSnapshot {
    if (losses !== undefined && losses.length !== correct.length) {
      throw new RangeError(`prequential batch has ${correct.length} predictions but ${losses.length} losses`);
    }
    for (let i = 0; i < correct.length; i++) {
      const c = correct[i];
      this.add(c === true || (typeof c === 'number' && c !== 0), losses?.[i] ?? 0);
    }
    return this.snapshot();
  }

  /** The current figures; all 0 before the first sample. */
  snapshot(): PrequentialSnapshot {
    const n = this.samples;
    return {
      samples: n,
      accuracy: n === 0 ? 0 : this.correctSum / n,
      windowAccuracy: this.filled === 0 ? 0 : this.windowCorrect / this.filled,
      fadingAccuracy: this.fadingN === 0 ? 0 : this.fadingS / this.fadingN,
      loss: n === 0 ? 0 : this.lossSum / n,
      windowLoss: this.filled === 0 ? 0 : this.windowLossSum / this.filled,
      ...(this.errors.samples > 0 ? { errors: this.errors.snapshot() } : {}),
    };
  }

  /** The accumulator's state for a checkpoint (counters as JSON, the window as raw arrays). */
  state(): SerializedState {
    const correct: StateArray = { dtype: 'int32', shape: [this.window], data: Int32Array.from(this.ringCorrect) };
    const loss: StateArray = { dtype: 'float32', shape: [this.window], data: Float32Array.from(this.ringLoss) };
    // A regression stream's errors; absent for classification (and in checkpoints written before them).
    const errors = this.errors.samples > 0 ? this.errors.state() : undefined;
    return {
      meta: {
        window: this.window,
        fading: this.fading,
        head: this.head,
        filled: this.filled,
        samples: this.samples,
        correctSum: this.correctSum,
        lossSum: this.lossSum,
        windowCorrect: this.windowCorrect,
        windowLossSum: this.windowLossSum,
        fadingS: this.fadingS,
        fadingN: this.fadingN,
        ...(errors ? { errors: errors.meta } : {}),
      },
      arrays: { correct, loss, ...errors?.arrays },
    };
  }

  /** Restores a {@link state} taken with the same window and fading factor. */
  restore(state: SerializedState): void {
    const meta = state.meta;
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta))
      throw new TypeError('prequential state: meta must be an object');
    const num = (key: string): number => {
      const v = meta[key];
      if (typeof v !== 'number') throw new TypeError(`prequential state: meta.${key} must be a number`);
      return v;
    };
    if (num('window') !== this.window || num('fading') !== this.fading) {
      throw new RangeError(
        `prequential state was taken with window ${num('window')} and fading ${num('fading')}, this accumulator has ` +
          `${this.window} and ${this.fading}`,
      );
    }
    const correct = state.arrays?.['correct']?.data;
    const loss = state.arrays?.['loss']?.data;
    if (correct?.length !== this.window || loss?.length !== this.window)
      throw new RangeError(`prequential state: arrays 'correct' and 'loss' must have ${this.window} entries`);
    for (let i = 0; i < this.window; i++) this.ringCorrect[i] = correct[i] ?? 0;
    this.ringLoss.set(loss);
    this.head = num('head');
    this.filled = num('filled');
    this.samples = num('samples');
    this.correctSum = num('correctSum');
    this.lossSum = num('lossSum');
    this.windowCorrect = num('windowCorrect');
    this.windowLossSum = num('windowLossSum');
    this.fadingS = num('fadingS');
    this.fadingN = num('fadingN');
    const errors = meta['errors'];
    if (errors !== undefined && errors !== null) {
      if (typeof errors !== 'object' || Array.isArray(errors))
        throw new TypeError('prequential state: meta.errors must be an object');
      this.errors.restore((key) => {
        const v = errors[key];
        if (typeof v !== 'number') throw new TypeError(`prequential state: meta.errors.${key} must be a number`);
        return v;
      }, state.arrays);
    }
  }
}
