import * as tf from '@tensorflow/tfjs';
import {
  isQuadraticPenalty,
  type Batch,
  type EngramModel,
  type Experience,
  type StreamInfo,
  type Strategy,
} from '@engram/core';
import { experienceContext } from './fixtures.js';

/** Options of {@link trainWithHooks}. */
export interface MiniTrainOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
}

/**
 * A test-only trainer that calls the strategy hooks in the engine's documented order (awaiting each
 * strategy in list order), with SGD. Returns the final model (strategies may replace it).
 */
export async function trainWithHooks(
  strategies: readonly Strategy[],
  model: EngramModel,
  experiences: readonly Experience[],
  info: StreamInfo,
  options: MiniTrainOptions = {},
): Promise<EngramModel> {
  const optimizer = tf.train.sgd(options.learningRate ?? 0.1);
  let step = 0;
  for (const experience of experiences) {
    let ctx = experienceContext(model, experience, info, step);
    for (const s of strategies) await s.beforeExperience?.(ctx);
    for (const s of strategies) {
      const replaced = await s.adaptModel?.(ctx);
      if (replaced) {
        model = replaced;
        ctx = experienceContext(model, experience, info, step);
      }
    }
    let source = experience.train;
    for (const s of strategies) {
      const data = await s.trainData?.(ctx);
      if (data) {
        source = data;
        break;
      }
    }
    for (let epoch = 0; epoch < (options.epochs ?? 1); epoch++) {
      for await (const raw of source.batches({ batchSize: options.batchSize ?? 16, shuffle: true, epoch, seed: 3 })) {
        let batch: Batch = raw;
        const stepCtx = () => ({ ...experienceContext(model, experience, info, step), batch, epoch });
        for (const s of strategies) if (s.transformBatch) batch = await s.transformBatch(batch, stepCtx());
        const vars = model.trainableVariables();
        let penaltyValue = 0;
        const { value, grads } = tf.variableGrads(() => {
          const x = tf.tensor(batch.x, [batch.y.length, ...batch.sampleShape]);
          const y = tf.tensor1d(batch.y, 'int32');
          const task = batch.task ? { task: batch.task } : {};
          const logits = model.forward(x, { training: true, ...task }) as tf.Tensor2D;
          const crossEntropy = tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
            tf.oneHot(y, logits.shape[1]),
            logits,
          );
          const lctx = { ...stepCtx(), x, y, logits, crossEntropy };
          let loss: tf.Scalar = crossEntropy;
          for (const s of strategies) {
            const l = s.loss?.(lctx);
            if (l) {
              loss = l;
              break;
            }
          }
          for (const s of strategies) {
            const returned = s.penalty?.(lctx);
            const p = returned && isQuadraticPenalty(returned) ? returned.toScalar() : returned;
            if (p) {
              penaltyValue += p.dataSync()[0] as number;
              loss = tf.add<tf.Scalar>(loss, p);
            }
          }
          return loss;
        }, vars);
        let applied: tf.NamedTensorMap = grads;
        for (const s of strategies) if (s.afterBackward) applied = await s.afterBackward(applied, stepCtx());
        optimizer.applyGradients(applied);
        for (const [k, t] of Object.entries(applied)) if (grads[k] !== t) t.dispose();
        for (const t of Object.values(grads)) t.dispose();
        const loss = value.dataSync()[0] as number;
        value.dispose();
        step++;
        for (const s of strategies) await s.afterBatch?.({ ...stepCtx(), loss, penalty: penaltyValue });
      }
    }
    ctx = experienceContext(model, experience, info, step);
    for (const s of strategies) await s.afterExperience?.(ctx);
  }
  optimizer.dispose();
  return model;
}

/** Accuracy of `model` on `batch`. */
export function accuracy(model: EngramModel, batch: Batch): number {
  return tf.tidy(() => {
    const x = tf.tensor(batch.x, [batch.y.length, ...batch.sampleShape]);
    const pred = tf
      .argMax(model.forward(x, { training: false, ...(batch.task ? { task: batch.task } : {}) }), 1)
      .dataSync();
    let ok = 0;
    pred.forEach((p, i) => {
      if (p === batch.y[i]) ok++;
    });
    return ok / batch.y.length;
  });
}
