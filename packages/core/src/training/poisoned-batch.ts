import * as tf from '@tensorflow/tfjs';
import type { AllFiniteImpl } from '../plugin-api/backend-report.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import { LOSS_LIMIT } from './numeric-guard.js';

/**
 * Copies of the weights a training forward pass writes — batch-norm moving statistics — taken before a
 * live run's step, so a skipped batch leaves them as they were. Frozen weights are not copied: nothing
 * writes them.
 */
export interface KeptStatistics {
  /** The live variables the copies belong to. */
  readonly weights: ReadonlyArray<{ read(): tf.Tensor }>;
  /** Writes the copies back and releases them (a skipped batch). */
  restore(): void;
  /** Releases the copies (the batch was trained on). */
  dispose(): void;
}

/**
 * Called by the trainer before a live run's step: copies `model`'s batch-norm moving statistics
 * (tfjs-layers names them `moving_mean` / `moving_variance`). Touches nothing else.
 */
export function keepMovingStatistics(model: EngramModel): KeptStatistics {
  const weights = model.network.nonTrainableWeights.filter((w) => /moving_(mean|variance)/.test(w.name));
  const copies = weights.map((w) => tf.clone(w.read()));
  return {
    weights,
    restore(): void {
      weights.forEach((w, i) => w.write(copies[i] as tf.Tensor));
      tf.dispose(copies);
    },
    dispose(): void {
      tf.dispose(copies);
    },
  };
}

/**
 * Called by the trainer of a live run between backward and the optimizer step: why the batch must not be
 * applied — its `loss` is NaN, infinite or above {@link LOSS_LIMIT}, or (a finite loss can hide it, as
 * batch norm divides a huge input away) its gradients or the moving statistics its forward pass wrote
 * are not finite — or undefined when it is usable. Changes nothing. The values are checked by
 * `allFinite` (the run's native probe: one pass over each tensor's memory, no tensor, no kernel) when
 * given and able to answer, else by tf ops reading back one scalar.
 */
export function poisonOf(
  loss: number,
  grads: tf.NamedTensorMap,
  kept: KeptStatistics,
  allFinite?: AllFiniteImpl,
): string | undefined {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  if (Math.abs(loss) > LOSS_LIMIT) return `loss is ${loss.toExponential(2)} (limit ${LOSS_LIMIT.toExponential(0)})`;
  const parts = [...Object.values(grads), ...kept.weights.map((w) => w.read())];
  if (parts.length === 0) return undefined;
  const finite = allFinite?.(parts) ?? finiteByOps(parts);
  return finite ? undefined : 'a gradient or batch-norm statistic is not finite';
}

/** Whether every value of `parts` is finite, by tf ops (any backend): one scalar read back. */
function finiteByOps(parts: readonly tf.Tensor[]): boolean {
  // x·0 is 0 for finite x and NaN for ±Infinity or NaN: one sum says whether every value is finite.
  const probe = tf.tidy(() => tf.addN(parts.map((t) => tf.sum(tf.mul(t, 0)))));
  const finite = Number.isFinite(probe.dataSync()[0]);
  probe.dispose();
  return finite;
}
