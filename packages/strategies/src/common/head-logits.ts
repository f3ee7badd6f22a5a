import type * as tf from '@tensorflow/tfjs';
import type { EngramModel, ForwardOptions } from '@engram/core';

/**
 * Implemented by model wrappers whose `forward` is `mapLogits(network.apply(x))` (the multi-head
 * mask). Lets the batched Fisher pass run the network layer by layer and still score the wrapper's
 * logits, and lets distillation read the unmasked logits.
 */
export interface LogitMapper {
  mapLogits(logits: tf.Tensor, options: ForwardOptions): tf.Tensor;
}

/** True when `model` is a plain network (`forward = network.apply`) or a {@link LogitMapper} wrapper. */
export function logitMapperOf(model: EngramModel): LogitMapper | undefined {
  const m = model as Partial<LogitMapper> & EngramModel;
  if (typeof m.mapLogits === 'function') return m as LogitMapper;
  if (model.constructor.name === 'LayersEngramModel') return { mapLogits: (l) => l };
  return undefined;
}

/** Logits before any per-task masking (what distillation compares). */
export function unmaskedLogits(model: EngramModel, x: tf.Tensor, options: ForwardOptions): tf.Tensor {
  const m = model as Partial<LogitMapper> & EngramModel;
  if (typeof m.mapLogits === 'function') return model.network.apply(x, { training: options.training }) as tf.Tensor;
  return model.forward(x, options);
}
