import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import { batchTensors, type BatchTensors } from './batch-tensors.js';
import type { ExperienceContext, StepContext } from '../plugin-api/contexts.js';
import { crossEntropy } from './loss.js';
import { errorSums, regressionLoss } from './regression-loss.js';
import { CROSS_ENTROPY, type LossSpec } from './task-loss.js';
import type { OptimizerHandle } from './optimizer-handle.js';
import { planPenalties, type VariablePenalties } from './penalty-step.js';
import type { StrategyChain } from './strategy-chain.js';
import { NumericalError, StepGuard } from './numeric-guard.js';
import { keepMovingStatistics, poisonOf } from './poisoned-batch.js';

/** Values of one training step. */
export interface StepResult {
  readonly loss: number;
  readonly penalty: number;
  readonly correct: number;
  /**
   * Regression batches: sum of |output − target| over the batch's targets (rows × outputs, replayed rows
   * included) and how many targets that is; the running training MAE is their ratio.
   */
  readonly absoluteError?: { readonly sum: number; readonly count: number };
  /** Rows trained on: the batch after the strategies' `transformBatch` (replayed rows included). */
  readonly size: number;
  /** Records of the data in the batch as it came in (before `transformBatch` added replayed rows). */
  readonly records: number;
  /**
   * Set when the batch was poisoned (its loss NaN, infinite or above 1e12 (`LOSS_LIMIT`)) and skipped
   * without touching the weights: the one-line reason. Only when the trainer skips poisoned batches.
   */
  readonly poisoned?: string;
}

/** How a {@link Trainer} treats a batch whose loss is not usable. */
export interface TrainerOptions {
  /**
   * Skip a batch whose loss is NaN, infinite or above 1e12 (`LOSS_LIMIT`) in magnitude, before the optimizer
   * sees its gradients, and restore the non-trainable weights (batch-norm statistics) its forward pass
   * moved — instead of failing the run. Live (stream) runs set it: one hostile or absurd record must not
   * end a run that serves or learns forever. A finite run fails loudly (default false).
   */
  readonly skipPoisoned?: boolean;
  /** The default loss (`training.loss` and `task`); default cross-entropy. */
  readonly loss?: LossSpec;
}

export { NumericalError } from './numeric-guard.js';

/**
 * One regularised training step: strategies' `transformBatch`, forward, loss (cross-entropy or a
 * strategy's), summed penalties, backward, `afterBackward`, optimizer step, `afterBatch`. Quadratic
 * penalties on trainable variables are not taped: their gradient joins at the optimizer step.
 * Every tensor created here is released before the step returns.
 */
export class Trainer {
  private readonly guard = new StepGuard();

  constructor(
    private readonly strategies: StrategyChain,
    private readonly optimizer: OptimizerHandle,
    private readonly options: TrainerOptions = {},
  ) {
    this.lossSpec = options.loss ?? CROSS_ENTROPY;
  }

  private readonly lossSpec: LossSpec;

  /**
   * Gradients of the plain default loss on `batch` (for `ExperienceContext.gradientsOf`): cross-entropy,
   * or the regression loss of `spec` when the batch carries regression targets.
   */
  static gradientsOf(model: EngramModel, batch: Batch, spec: LossSpec = CROSS_ENTROPY): tf.NamedTensorMap {
    return tf.tidy(() => {
      const vars = model.trainableVariables();
      const { grads } = tf.variableGrads(() => {
        const t = batchTensors(batch);
        const logits = model.forward(t.x, {
          training: true,
          ...(batch.task ? { task: batch.task } : {}),
        }) as tf.Tensor2D;
        return defaultLoss(logits, t, spec);
      }, vars);
      return grads;
    });
  }

  /** Trains on one (already preprocessed) batch. */
  async step(input: Batch, base: ExperienceContext, epoch: number): Promise<StepResult> {
    const model = base.model;
    const stepCtx0: StepContext = { ...base, batch: input, epoch };
    const batch = await this.strategies.transformBatch(input, stepCtx0);
    const ctx: StepContext = { ...base, batch, epoch };
    const vars = model.trainableVariables();
    // A live run keeps the non-trainable weights (batch-norm moving statistics) a poisoned batch's forward moves.
    const kept = this.options.skipPoisoned ? keepMovingStatistics(model) : undefined;
    let penaltyT: tf.Scalar | undefined;
    let logitsT: tf.Tensor2D | undefined;
    let deferred: VariablePenalties | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const t = batchTensors(batch);
      const logits = model.forward(t.x, { training: true, ...(batch.task ? { task: batch.task } : {}) }) as tf.Tensor2D;
      const ce = defaultLoss(logits, t, this.lossSpec);
      const lossCtx = {
        ...ctx,
        x: t.x,
        y: t.y,
        logits,
        crossEntropy: ce,
        ...(t.values ? { targetValues: t.values } : {}),
      };
      const main = this.strategies.loss(lossCtx) ?? ce;
      const { scalar, quadratic } = this.strategies.penalty(lossCtx);
      // A strategy that reads or rewrites gradients (A-GEM, SI), or clipping, must see the penalty's: keep it taped.
      const plan = planPenalties(
        quadratic,
        this.strategies.handlesGradients || this.optimizer.needsFullGradients ? [] : vars,
        this.optimizer.accelerator.quadraticPenalty,
      );
      deferred = plan.deferred;
      const penalty = scalar && plan.onTape ? tf.add<tf.Scalar>(scalar, plan.onTape) : (scalar ?? plan.onTape);
      logitsT = tf.keep(logits);
      if (!penalty) return main;
      penaltyT = tf.keep(penalty);
      return tf.add<tf.Scalar>(main, penalty);
    }, vars);
    // Training accuracy is counted on the host from the logits: a [n, k] read-back is cheaper than
    // four more kernels (argMax, equal, cast, sum) in every step.
    const tapeLoss = value.dataSync()[0] ?? NaN;
    const tapePenalty = penaltyT ? (penaltyT.dataSync()[0] ?? 0) : 0;
    const correct = logitsT && !batch.targetValues ? countCorrect(logitsT.dataSync(), batch.y) : 0;
    const errors = logitsT && batch.targetValues ? errorSums(logitsT.dataSync(), batch.targetValues) : undefined;
    const absoluteError = errors ? { absoluteError: { sum: errors.absolute, count: errors.count } } : {};
    tf.dispose([value, ...(penaltyT ? [penaltyT] : []), ...(logitsT ? [logitsT] : [])]);
    const fail = (loss: number): NumericalError =>
      new NumericalError(`loss is ${loss} at experience ${base.experience.index}, epoch ${epoch}, step ${base.step}`);
    const poisoned = kept ? poisonOf(tapeLoss, grads, kept, this.optimizer.accelerator.allFinite) : undefined;
    if (poisoned !== undefined) {
      for (const g of Object.values(grads)) g.dispose();
      kept?.restore();
      const where = `at experience ${base.experience.index}, epoch ${epoch}, step ${base.step}`;
      const reason = `${poisoned} ${where}: batch skipped, weights unchanged`;
      return {
        loss: tapeLoss,
        penalty: tapePenalty,
        correct: 0,
        size: batch.y.length,
        records: input.y.length,
        poisoned: reason,
      };
    }
    kept?.dispose();
    if (!Number.isFinite(tapeLoss)) {
      for (const g of Object.values(grads)) g.dispose();
      throw fail(tapeLoss);
    }
    // Deferred quadratic penalties join the gradient at the optimizer step.
    const finalGrads = await this.strategies.afterBackward(grads, ctx);
    const deferredValue = this.optimizer.apply(finalGrads, vars, deferred);
    for (const g of Object.values(grads)) g.dispose();
    if (finalGrads !== grads) for (const g of Object.values(finalGrads)) if (!g.isDisposed) g.dispose();
    const loss = tapeLoss + deferredValue;
    // A non-finite or overflowing loss, or optimizer state gone non-finite, stops the run before anything is saved.
    await this.guard.afterStep(loss, this.optimizer.current, {
      experience: base.experience.index,
      epoch,
      step: base.step,
    });
    const penalty = tapePenalty + deferredValue;
    await this.strategies.afterBatch({ ...ctx, loss, penalty });
    return { loss, penalty, correct, ...absoluteError, size: batch.y.length, records: input.y.length };
  }
}

/** The default loss of a batch: regression loss against its targets, else cross-entropy. In a tape. */
function defaultLoss(outputs: tf.Tensor2D, t: BatchTensors, spec: LossSpec): tf.Scalar {
  if (!t.values) return crossEntropy(outputs, t.y, t.targets);
  return regressionLoss(outputs, t.values, spec.kind === 'cross-entropy' ? 'mse' : spec.kind, spec.delta);
}

/** Rows of `logits` (row-major, `labels.length` rows) whose arg-max equals the label. */
export function countCorrect(logits: ArrayLike<number>, labels: Int32Array): number {
  const n = labels.length;
  const k = n > 0 ? logits.length / n : 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = logits[i * k + j] as number;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct;
}
