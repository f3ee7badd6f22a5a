import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;
const lr = (d: number) => Type.Optional(Type.Number({ exclusiveMinimum: 0, default: d, description: 'Learning rate.' }));

/** Optimizers, after tfjs' `tf.train.*` with the same option names. */
export const OptimizerSchema = Type.Union([
  Type.Object({ type: Type.Literal('sgd'), learningRate: lr(0.01) }, strict),
  Type.Object({ type: Type.Literal('momentum'), learningRate: lr(0.01), momentum: Type.Optional(Type.Number({ minimum: 0, default: 0.9 })), useNesterov: Type.Optional(Type.Boolean({ default: false })) }, strict),
  Type.Object(
    {
      type: Type.Literal('adam'),
      learningRate: lr(0.001),
      beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 })),
      beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 })),
      epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1e-7 })),
    },
    strict,
  ),
  Type.Object(
    {
      type: Type.Literal('rmsprop'),
      learningRate: lr(0.001),
      decay: Type.Optional(Type.Number({ minimum: 0, default: 0.9 })),
      momentum: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
      epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1e-7 })),
      centered: Type.Optional(Type.Boolean({ default: false })),
    },
    strict,
  ),
  Type.Object({ type: Type.Literal('adagrad'), learningRate: lr(0.01), initialAccumulatorValue: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 0.1 })) }, strict),
  Type.Object(
    {
      type: Type.Literal('adamax'),
      learningRate: lr(0.002),
      beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 })),
      beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 })),
      epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1e-7 })),
      decay: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
    },
    strict,
  ),
]);

/** The optimizer section. */
export type OptimizerSpec = Static<typeof OptimizerSchema>;
