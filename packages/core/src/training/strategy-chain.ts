import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import type { BatchSource } from '../data/batch-source.js';
import type { StreamInfo } from '../data/experience.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type {
  AfterBatchContext,
  ExperienceContext,
  LossContext,
  PredictorContext,
  StepContext,
} from '../plugin-api/contexts.js';
import { isQuadraticPenalty, type QuadraticPenalty } from '../plugin-api/quadratic-penalty.js';
import type { Strategy } from '../plugin-api/strategy.js';

/**
 * The pipeline's strategies as one: each hook awaits every strategy's implementation in the declared
 * order and threads return values through (like tfjs-layers' `CallbackList`).
 */
export class StrategyChain {
  constructor(readonly strategies: readonly Strategy[]) {}

  /** Names, in order (`replay+ewc`). */
  get names(): string[] {
    return this.strategies.map((s) => s.name);
  }

  async beforeExperience(ctx: ExperienceContext): Promise<void> {
    for (const s of this.strategies) await s.beforeExperience?.(ctx);
  }

  /** Threads the model through every `adaptModel`; returns the final model. */
  async adaptModel(ctx: ExperienceContext): Promise<EngramModel> {
    let model = ctx.model;
    for (const s of this.strategies) {
      const next = await s.adaptModel?.({ ...ctx, model });
      if (next) model = next;
    }
    return model;
  }

  /** The first replacement training source, if any strategy provides one. */
  async trainData(ctx: ExperienceContext): Promise<BatchSource | undefined> {
    for (const s of this.strategies) {
      const src = await s.trainData?.(ctx);
      if (src) return src;
    }
    return undefined;
  }

  async transformBatch(batch: Batch, ctx: StepContext): Promise<Batch> {
    let b = batch;
    for (const s of this.strategies) if (s.transformBatch) b = await s.transformBatch(b, { ...ctx, batch: b });
    return b;
  }

  /** The first strategy loss, or undefined for the default cross-entropy. Inside the tape. */
  loss(ctx: LossContext): tf.Scalar | undefined {
    for (const s of this.strategies) {
      const l = s.loss?.(ctx);
      if (l) return l;
    }
    return undefined;
  }

  /** The first strategy's replay memory (see `Strategy.memory`), if any keeps one. */
  memory(): Batch | undefined {
    for (const s of this.strategies) {
      const m = s.memory?.();
      if (m && m.y.length > 0) return m;
    }
    return undefined;
  }

  /**
   * Every strategy's penalty: the scalar ones summed (undefined when none) and the quadratic ones
   * listed, for the trainer to defer to the optimizer step. Inside the tape.
   */
  penalty(ctx: LossContext): { scalar: tf.Scalar | undefined; quadratic: QuadraticPenalty[] } {
    let scalar: tf.Scalar | undefined;
    const quadratic: QuadraticPenalty[] = [];
    for (const s of this.strategies) {
      const p = s.penalty?.(ctx);
      if (!p) continue;
      if (isQuadraticPenalty(p)) quadratic.push(p);
      else scalar = scalar ? tf.add<tf.Scalar>(scalar, p) : p;
    }
    return { scalar, quadratic };
  }

  /** True when some strategy rewrites or reads gradients in `afterBackward` (A-GEM, SI). */
  get handlesGradients(): boolean {
    return this.strategies.some((s) => s.afterBackward !== undefined);
  }

  /** Threads gradients through every `afterBackward`; intermediate replacements are disposed. */
  async afterBackward(grads: tf.NamedTensorMap, ctx: StepContext): Promise<tf.NamedTensorMap> {
    let current = grads;
    for (const s of this.strategies) {
      if (!s.afterBackward) continue;
      const next = await s.afterBackward(current, ctx);
      if (current !== grads) disposeReplaced(current, next);
      current = next;
    }
    return current;
  }

  async afterBatch(ctx: AfterBatchContext): Promise<void> {
    for (const s of this.strategies) await s.afterBatch?.(ctx);
  }

  async afterExperience(ctx: ExperienceContext): Promise<void> {
    for (const s of this.strategies) await s.afterExperience?.(ctx);
  }

  /** The first strategy's evaluation predictor (class scores from inputs), if any provides one. */
  predictor(ctx: PredictorContext): ((x: tf.Tensor) => tf.Tensor) | undefined {
    for (const s of this.strategies) {
      const p = s.predictor?.(ctx);
      if (p) return p;
    }
    return undefined;
  }

  /** The evaluation view of a plain network: every strategy's `forEvaluation` in order (see {@link Strategy.forEvaluation}). */
  forEvaluation(model: EngramModel, info: StreamInfo): EngramModel {
    return this.strategies.reduce<EngramModel>((m, s) => s.forEvaluation?.(m, info) ?? m, model);
  }

  dispose(): void {
    for (const s of this.strategies) s.dispose?.();
  }
}

/** Disposes tensors of `old` that `next` no longer holds. */
export function disposeReplaced(old: tf.NamedTensorMap, next: tf.NamedTensorMap): void {
  const kept = new Set(Object.values(next));
  for (const t of Object.values(old)) if (!kept.has(t)) t.dispose();
}
