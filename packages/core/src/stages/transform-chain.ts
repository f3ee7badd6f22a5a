import type { Batch } from '../data/batch.js';
import type { Experience, StreamInfo } from '../data/experience.js';
import type { Transform, TransformPhase } from '../plugin-api/transform.js';

/**
 * The pipeline's `preprocess` transforms as one: the preprocess stage applies it to the run's
 * batches, evaluation to test sets, `engram eval` to a checkpoint's test data.
 */
export class TransformChain {
  constructor(readonly transforms: readonly Transform[]) {}

  /** Sample shape the model sees, given the source's. Called once before the model is built. */
  outputShape(info: StreamInfo): number[] {
    return this.transforms.reduce<number[]>(
      (shape, t) => (t.outputShape ? t.outputShape(shape, info) : shape),
      [...info.inputShape],
    );
  }

  /** Lets transforms fit statistics at an experience start. */
  async beforeExperience(experience: Experience): Promise<void> {
    for (const t of this.transforms) await t.beforeExperience?.(experience);
  }

  /** Applies every step to a batch. */
  prepare(batch: Batch, phase: TransformPhase): Batch {
    let b = batch;
    for (const t of this.transforms) b = t.apply(b, phase);
    return b;
  }
}
