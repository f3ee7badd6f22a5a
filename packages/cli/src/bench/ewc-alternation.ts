import {
  Type,
  type AfterBatchContext,
  type ComponentServices,
  type ExperienceContext,
  type LossContext,
  type PluginManifest,
  type QuadraticPenalty,
  type Strategy,
} from '@engram/core';
import { EwcOptions, EwcStrategy } from '@engram/strategies';
import { componentPlugin } from './bench.plugin.js';

/**
 * Step times of one run whose steps alternate, block by block, between two conditions: blocks of
 * `blockSteps` steps go off, on, off, on… A paired measurement: both conditions see the same process,
 * the same memory layout and the same moments of the machine, so a speed drift of the host (on this
 * project's VMs, ±20 % between one-second windows) falls on both sides alike. The first step of each
 * block is not timed (with `blockSteps` ≥ 2): it would carry what the other condition left behind —
 * the cache state its arrays made —, which neither condition pays when it runs alone.
 */
export class BlockAlternation {
  /** Durations (ms) of the steps taken with the condition on. */
  readonly on: number[] = [];
  /** Durations (ms) of the steps taken with the condition off. */
  readonly off: number[] = [];
  private step = 0;
  private last: number | undefined;

  constructor(readonly blockSteps: number) {
    if (!(Number.isInteger(blockSteps) && blockSteps >= 1))
      throw new Error(`blockSteps must be a positive integer, got ${blockSteps}`);
  }

  /** Whether the current step (the one between the last and the next {@link stepEnded}) runs with the condition on. */
  get isOn(): boolean {
    return Math.floor(this.step / this.blockSteps) % 2 === 1;
  }

  /** Starts a new sequence: the next step is step 0 and is not timed (nothing marks its start). */
  restart(): void {
    this.step = 0;
    this.last = undefined;
  }

  /** Marks the end of the current step at `now` (ms): times it (unless it opens a block) and moves to the next. */
  stepEnded(now: number): void {
    const opensBlock = this.blockSteps > 1 && this.step % this.blockSteps === 0;
    if (this.last !== undefined && !opensBlock) (this.isOn ? this.on : this.off).push(now - this.last);
    this.last = now;
    this.step++;
  }

  /** Mean off-step time ÷ mean on-step time: the on condition's throughput as a fraction of the off one's (NaN without both). */
  onOverOff(): number {
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    return this.on.length > 0 && this.off.length > 0 ? mean(this.off) / mean(this.on) : NaN;
  }
}

/** `ewc`'s schema defaults for its options other than λ, so the paired run trains as the `ewc` runs beside it do. */
const EWC_DEFAULTS = {
  fisherSamples: schemaDefault(EwcOptions.properties.fisherSamples, (v): v is number => typeof v === 'number'),
  labels: schemaDefault(
    EwcOptions.properties.labels,
    (v): v is 'true' | 'predicted' => v === 'true' || v === 'predicted',
  ),
};

/** A schema's `default`, checked by `is` (throws at load time if the schema no longer has one of that type). */
function schemaDefault<T>(schema: { readonly default?: unknown }, is: (v: unknown) => v is T): T {
  if (!is(schema.default)) throw new Error(`ewc's schema has no usable default here (${String(schema.default)})`);
  return schema.default;
}

/**
 * EWC (`@engram/strategies`' `ewc`) whose per-step work runs only in the on blocks of `alternation`
 * during the measured experience: there `penalty` returns EWC's penalty and `afterBatch` feeds its
 * Fisher reservoir; in off blocks both do nothing, as plain fine-tuning. The warm-up experience
 * (index 0) always feeds the reservoir, so the measured one has a Fisher and an anchor.
 */
export class AlternatingEwc implements Strategy {
  readonly name = 'bench-ewc-alternating';
  private readonly ewc: EwcStrategy;
  private measured = false;

  constructor(
    private readonly alternation: BlockAlternation,
    lambda: number,
    services: ComponentServices,
  ) {
    this.ewc = new EwcStrategy('ewc', { ...EWC_DEFAULTS, lambda }, services);
  }

  /** Restarts the alternation at the start of the experience that has a penalty. */
  beforeExperience(): void {
    this.ewc.beforeExperience();
    this.measured = this.ewc.penalties.length > 0;
    this.alternation.restart();
  }

  /** EWC's penalty in on blocks of the measured experience. */
  penalty(ctx: LossContext): QuadraticPenalty | void {
    if (this.measured && this.alternation.isOn) return this.ewc.penalty(ctx);
  }

  /** Feeds the Fisher reservoir (warm-up, and on blocks), then ends the step's timing. */
  afterBatch(ctx: AfterBatchContext): void {
    if (!this.measured || this.alternation.isOn) this.ewc.afterBatch(ctx);
    if (this.measured) this.alternation.stepEnded(performance.now());
  }

  /** Estimates the Fisher and anchors the weights, as EWC does. */
  afterExperience(ctx: ExperienceContext): void {
    this.ewc.afterExperience(ctx);
  }

  /** Releases EWC's Fisher and anchor tensors. */
  dispose(): void {
    this.ewc.dispose();
  }
}

/** A plugin registering `bench-ewc-alternating` (option `lambda`), whose steps are timed into `alternation`. */
export function alternatingEwcPlugin(alternation: BlockAlternation): PluginManifest {
  return componentPlugin('engram-bench-ewc-alternating', {
    role: 'strategy',
    kind: 'bench-ewc-alternating',
    description: 'EWC whose per-step hooks run in every other block of steps (benchmark only).',
    options: Type.Object({ lambda: Type.Number({ minimum: 0, default: 50 }) }, { additionalProperties: false }),
    create: (o, services) => new AlternatingEwc(alternation, (o as { lambda: number }).lambda, services),
  });
}
