import type * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';

/** tfjs' activation identifiers. */
export type TfActivation = NonNullable<Parameters<typeof tf.layers.dense>[0]['activation']>;

/** Activation identifiers the surgery adjustments accept (the names of the `layers[]` schema). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'mish'
  | 'gelu';

/** Each accepted name as tfjs' activation identifier. */
export const ACTIVATIONS: Readonly<Record<ActivationName, TfActivation>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  mish: 'mish',
  gelu: 'gelu',
};

/** JSON Schema of an activation option with a description and an optional default. */
export function activationSchema(
  description: string,
  defaultValue?: ActivationName,
): ReturnType<typeof Type.Unsafe<ActivationName>> {
  return Type.Unsafe<ActivationName>({
    type: 'string',
    enum: Object.keys(ACTIVATIONS),
    ...(defaultValue ? { default: defaultValue } : {}),
    description,
  });
}
