import {
  ArrayBatchSource,
  Type,
  type Batch,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type ExperienceContext,
  type JsonValue,
  type SerializedState,
  type Static,
  type Strategy,
} from '@engram/core';
import { materialize } from '../common/materialize.js';
import { reinitializeModel } from '../common/model-reset.js';
import { metaObject } from '../common/tensor-state.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Options of `gdumb`. */
export const GdumbOptions = Type.Object(
  {
    bufferSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Samples the greedy class-balanced memory holds.',
    }),
  },
  { additionalProperties: false },
);

/**
 * GDumb (Prabhu, Torr & Dokania 2020, "GDumb: A Simple Approach that Questions Our Progress in
 * Continual Learning", ECCV).
 *
 * - `beforeExperience` streams the experience's training data through a greedy class-balanced memory.
 * - `adaptModel` re-initialises every weight (seeded), and `trainData` returns the memory, so the model
 *   is retrained from scratch on the memory alone at each experience. Needs finite experiences.
 */
export class GdumbStrategy implements Strategy {
  readonly name = 'gdumb';
  readonly buffer: ReplayBuffer;

  constructor(
    options: Static<typeof GdumbOptions>,
    private readonly services: ComponentServices,
  ) {
    this.buffer = new ReplayBuffer(options.bufferSize, 'greedy', services.rng.derive('buffer'));
  }

  async beforeExperience(ctx: ExperienceContext): Promise<void> {
    const data = await materialize(ctx.experience.train, 'gdumb', this.services.seed);
    if (data) this.buffer.add(data, ctx.experience.index);
  }

  /** Retrains from scratch on the memory: fresh weights (seeded) and a fresh optimizer. */
  adaptModel(ctx: ExperienceContext): void {
    reinitializeModel(ctx.model, this.services.rng.derive(`reset:${ctx.experience.index}`));
    ctx.resetOptimizer();
  }

  trainData(): BatchSource | void {
    const all = this.buffer.all();
    return all ? new ArrayBatchSource(all) : undefined;
  }

  /** The memory's rows (copies), for serving's promotion gates (`Strategy.memory`). */
  memory(): Batch | undefined {
    return this.buffer.all();
  }

  state(): SerializedState {
    const b = this.buffer.state();
    return { meta: { buffer: b.meta ?? null }, arrays: b.arrays ?? {} };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'gdumb');
    this.buffer.restore({ meta: (meta['buffer'] ?? null) as JsonValue, arrays: state.arrays ?? {} });
  }
}

/** Registration of `gdumb`. */
export const gdumbDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'gdumb',
    classesOnly: 'its memory is balanced per class',
    description:
      'GDumb (Prabhu et al. 2020): greedy class-balanced memory, model retrained from scratch on it at each experience.',
    options: GdumbOptions,
    create: (o, services) => new GdumbStrategy(o as Static<typeof GdumbOptions>, services),
  },
];
