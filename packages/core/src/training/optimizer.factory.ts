import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../pipeline/optimizer.schema.js';

/** Creates the tfjs optimizer a pipeline's `optimizer` section describes (defaults as in tfjs/Keras). */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.type) {
    case 'sgd':
      return tf.train.sgd(spec.learningRate ?? 0.01);
    case 'momentum':
      return tf.train.momentum(spec.learningRate ?? 0.01, spec.momentum ?? 0.9, spec.useNesterov ?? false);
    case 'adam':
    case 'adamw': // the decoupled decay is the OptimizerHandle's, around the stock/native Adam update
      return tf.train.adam(spec.learningRate ?? 0.001, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-7);
    case 'rmsprop':
      return tf.train.rmsprop(
        spec.learningRate ?? 0.001,
        spec.decay ?? 0.9,
        spec.momentum ?? 0,
        spec.epsilon ?? 1e-7,
        spec.centered ?? false,
      );
    case 'adagrad':
      return tf.train.adagrad(spec.learningRate ?? 0.01, spec.initialAccumulatorValue ?? 0.1);
    case 'adamax':
      return tf.train.adamax(
        spec.learningRate ?? 0.002,
        spec.beta1 ?? 0.9,
        spec.beta2 ?? 0.999,
        spec.epsilon ?? 1e-7,
        spec.decay ?? 0,
      );
  }
}

/** Value a fresh slot of this optimizer starts at (Adagrad's accumulator is not zero). */
export function initialSlotValue(spec: OptimizerSpec): number {
  return spec.type === 'adagrad' ? (spec.initialAccumulatorValue ?? 0.1) : 0;
}
