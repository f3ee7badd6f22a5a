import {
  ArrayBatchSource,
  concatBatches,
  Type,
  type Batch,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type ExperienceContext,
  type JsonValue,
  type SerializedState,
  type StateArray,
  type Strategy,
} from '@engram/core';
import { materialize } from '../common/materialize.js';
import { reinitializeModel } from '../common/model-reset.js';
import { arraysToBatch, batchToArrays } from '../common/batch-state.js';
import { metaObject } from '../common/tensor-state.js';

/** Options of `joint` and `cumulative`: none. */
export const UnionOptions = Type.Object({}, { additionalProperties: false });

/**
 * Trains each experience on the union of the training data of all experiences seen so far.
 *
 * - `joint` (`reset = true`) re-initialises the model at every experience start and trains from scratch
 *   on the union: the usual upper bound ("joint training" / "offline" in van de Ven et al. 2019).
 * - `cumulative` (`reset = false`) keeps the weights and continues on the union (Avalanche's
 *   `Cumulative`).
 *
 * `beforeExperience` reads the new experience's training source into host memory; `adaptModel`
 * re-initialises the weights in place (joint only); `trainData` returns the union. The union is part of
 * `state()` so a resumed run still has the past data. Needs finite experiences.
 */
export class UnionStrategy implements Strategy {
  private seen: Batch | undefined;

  constructor(
    readonly name: 'joint' | 'cumulative',
    private readonly services: ComponentServices,
  ) {}

  /** Reads the new experience's training data and appends it to the union. */
  async beforeExperience(ctx: ExperienceContext): Promise<void> {
    const data = await materialize(ctx.experience.train, this.name, this.services.seed);
    if (data) this.seen = this.seen ? concatBatches([this.seen, data]) : data;
  }

  /**
   * `joint` only: re-runs every layer's initializer (seeded by this component's generator) and starts
   * a fresh optimizer, so each experience trains from scratch.
   */
  adaptModel(ctx: ExperienceContext): void {
    if (this.name !== 'joint') return;
    reinitializeModel(ctx.model, this.services.rng.derive(`reset:${ctx.experience.index}`));
    ctx.resetOptimizer();
  }

  /** The union of all training data seen so far. */
  trainData(): BatchSource | void {
    return this.seen ? new ArrayBatchSource(this.seen) : undefined;
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    const batch = this.seen ? batchToArrays('seen', this.seen, arrays) : null;
    return { meta: { batch }, arrays };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, this.name);
    this.seen = meta['batch'] ? arraysToBatch('seen', meta['batch'] as JsonValue, state.arrays) : undefined;
  }
}

/** Registration of `joint` and `cumulative`. */
export const unionDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'joint',
    description: 'Retrains from scratch on the union of all experiences seen so far (upper bound).',
    options: UnionOptions,
    create: (_o, services) => new UnionStrategy('joint', services),
  },
  {
    role: 'strategy',
    kind: 'cumulative',
    description: 'Keeps training the same model on the union of all experiences seen so far.',
    options: UnionOptions,
    create: (_o, services) => new UnionStrategy('cumulative', services),
  },
];
