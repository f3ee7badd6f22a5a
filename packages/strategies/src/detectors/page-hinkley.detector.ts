import {
  Type,
  type BoundaryDetector,
  type ComponentDescriptor,
  type SerializedState,
  type Static,
  StringEnum,
} from '@engram/core';
import { metaNumber, metaObject } from '../common/tensor-state.js';

/** Options of the `page-hinkley` detector (River's defaults). */
export const PageHinkleyOptions = Type.Object(
  {
    minInstances: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Samples observed before a drift can be signalled.',
    }),
    delta: Type.Number({ minimum: 0, default: 0.005, description: 'Magnitude of changes that are tolerated.' }),
    threshold: Type.Number({
      exclusiveMinimum: 0,
      default: 50,
      description: 'Change detection threshold λ on the cumulative deviation.',
    }),
    alpha: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.9999,
      description: 'Forgetting factor of the cumulative sums.',
    }),
    mode: StringEnum(['up', 'down', 'both'] as const, {
      default: 'up',
      description: 'Detect increases of the loss ("up", the forgetting signal), decreases, or both.',
    }),
  },
  { additionalProperties: false },
);

/**
 * Page-Hinkley test (Page 1954) over the prequential per-sample loss, following River's
 * `drift.PageHinkley`: with the running mean x̄, `S⁺ ← α·S⁺ + (x − x̄ − δ)`, drift when
 * `S⁺ − min S⁺ > λ` (and symmetrically for decreases), after `minInstances` samples; the statistics
 * restart after each drift.
 */
export class PageHinkleyDetector implements BoundaryDetector {
  reason = 'page-hinkley drift';
  private n = 0;
  private mean = 0;
  private sumUp = 0;
  private minUp = Infinity;
  private sumDown = 0;
  private maxDown = -Infinity;

  constructor(private readonly options: Static<typeof PageHinkleyOptions>) {}

  /** Feeds one value; true when it completes a drift. */
  updateOne(x: number): boolean {
    const o = this.options;
    this.n++;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    this.sumUp = o.alpha * this.sumUp + dev - o.delta;
    this.sumDown = o.alpha * this.sumDown + dev + o.delta;
    this.minUp = Math.min(this.minUp, this.sumUp);
    this.maxDown = Math.max(this.maxDown, this.sumDown);
    if (this.n < o.minInstances) return false;
    const up = this.sumUp - this.minUp > o.threshold;
    const down = this.maxDown - this.sumDown > o.threshold;
    const drift = (o.mode !== 'down' && up) || (o.mode !== 'up' && down);
    if (drift) {
      this.reason = `page-hinkley drift (loss ${up ? 'increase' : 'decrease'} after ${this.n} samples)`;
      this.reset();
    }
    return drift;
  }

  update(losses: Float32Array): boolean {
    let drift = false;
    for (const x of losses) drift = this.updateOne(x) || drift;
    return drift;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumUp = 0;
    this.minUp = Infinity;
    this.sumDown = 0;
    this.maxDown = -Infinity;
  }

  state(): SerializedState {
    // ±Infinity are not JSON; they are written as null.
    const f = (v: number): number | null => (Number.isFinite(v) ? v : null);
    return {
      meta: {
        n: this.n,
        mean: this.mean,
        sumUp: this.sumUp,
        minUp: f(this.minUp),
        sumDown: this.sumDown,
        maxDown: f(this.maxDown),
      },
    };
  }

  restore(state: SerializedState): void {
    const m = metaObject(state.meta, 'page-hinkley');
    this.n = metaNumber(m, 'n', 'page-hinkley');
    this.mean = metaNumber(m, 'mean', 'page-hinkley');
    this.sumUp = metaNumber(m, 'sumUp', 'page-hinkley');
    this.sumDown = metaNumber(m, 'sumDown', 'page-hinkley');
    this.minUp = typeof m['minUp'] === 'number' ? m['minUp'] : Infinity;
    this.maxDown = typeof m['maxDown'] === 'number' ? m['maxDown'] : -Infinity;
  }
}

/** Registration of `page-hinkley`. */
export const pageHinkleyDescriptors: ComponentDescriptor[] = [
  {
    role: 'detector',
    kind: 'page-hinkley',
    description: 'Page-Hinkley drift test on the prequential loss (River defaults): a boundary when the loss rises.',
    options: PageHinkleyOptions,
    create: (o) => new PageHinkleyDetector(o as Static<typeof PageHinkleyOptions>),
  },
];
