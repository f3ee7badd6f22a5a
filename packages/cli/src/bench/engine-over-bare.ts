import { Type, type ExperienceContext, type PluginManifest, type Strategy } from '@engram/core';
import type { BareLoop } from './bare-loop.bench.js';
import { componentPlugin } from './bench.plugin.js';
import { BlockAlternation } from './ewc-alternation.js';

/**
 * Engine ÷ bare loop as a paired measurement inside one `engram run`: during the measured experience,
 * steps go in blocks of `blockSteps`; in off blocks the engine's own steps are timed (data pull,
 * preprocessing, hooks, events, the optimizer step — from the end of one step to the end of the next);
 * in on blocks each engine step is followed by one step of a {@link BareLoop} on its own model, timed by
 * itself. Both kinds of step run in the same process and the same moments of the machine, so the host's
 * speed drift and the process-to-process spread of the bare loop (±30 % between processes here) fall
 * on both sides alike. The first step of a block is not timed, as in {@link BlockAlternation}.
 */
export class EngineBarePairing {
  /** Durations (ms) of the bare loop's steps, taken in on blocks. */
  readonly bare: number[] = [];
  readonly alternation: BlockAlternation;
  private inBlock = 0;

  constructor(
    readonly loop: BareLoop,
    blockSteps: number,
  ) {
    this.alternation = new BlockAlternation(blockSteps);
  }

  /** Called at the end of each measured engine step: runs (and times) a bare step in on blocks, then ends the step. */
  stepEnded(): void {
    if (this.alternation.isOn) {
      const t0 = performance.now();
      this.loop.step();
      // The first step of a block pays for the other side's cache state, as the engine's does: not timed.
      if (this.inBlock++ > 0) this.bare.push(performance.now() - t0);
    } else {
      this.inBlock = 0;
    }
    this.alternation.stepEnded(performance.now());
  }

  /** Mean bare step time ÷ mean engine step time (off blocks): the engine's throughput as a fraction of the bare loop's. */
  engineOverBare(): number {
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const engine = this.alternation.off;
    return this.bare.length > 0 && engine.length > 0 ? mean(this.bare) / mean(engine) : NaN;
  }
}

/**
 * Plain fine-tuning whose `afterBatch` hands each step of the measured experience (index 1; index 0
 * is the warm-up) to `pairing`. Touches nothing of the run: the bare loop has its own model.
 */
export class BarePairedNaive implements Strategy {
  readonly name = 'bench-bare-paired';
  private measured = false;

  constructor(private readonly pairing: EngineBarePairing) {}

  /** Starts timing at the measured experience. */
  beforeExperience(ctx: ExperienceContext): void {
    this.measured = ctx.experience.index === 1;
    if (this.measured) this.pairing.alternation.restart();
  }

  /** Ends the step's timing (and runs a bare step in on blocks). */
  afterBatch(): void {
    if (this.measured) this.pairing.stepEnded();
  }
}

/** A plugin registering the `bench-bare-paired` strategy, whose steps are paired with `pairing`'s bare loop. */
export function barePairedPlugin(pairing: EngineBarePairing): PluginManifest {
  return componentPlugin('engram-bench-bare-paired', {
    role: 'strategy',
    kind: 'bench-bare-paired',
    description: 'Plain fine-tuning whose steps alternate in blocks with a bare tfjs loop (benchmark only).',
    options: Type.Object({}, { additionalProperties: false }),
    create: () => new BarePairedNaive(pairing),
  });
}
