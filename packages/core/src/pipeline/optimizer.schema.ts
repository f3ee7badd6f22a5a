import { Type, type Static } from '@sinclair/typebox';
import { ScheduleSchema } from './schedule.schema.js';

const strict = { additionalProperties: false } as const;
const b1 = () =>
  Type.Optional(
    Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.9,
      description: 'Decay rate of the first-moment (mean) estimate.',
    }),
  );
const b2 = () =>
  Type.Optional(
    Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.999,
      description: 'Decay rate of the second-moment (squared gradient) estimate.',
    }),
  );
const eps = () =>
  Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      default: 1e-7,
      description: 'Small constant added to the denominator for numerical stability.',
    }),
  );
const lr = (d: number) =>
  Type.Optional(Type.Number({ exclusiveMinimum: 0, default: d, description: 'Learning rate.' }));
/** Options every optimizer takes: a schedule and L2 weight decay. */
const common = () => ({
  schedule: Type.Optional(ScheduleSchema),
  weightDecay: Type.Optional(
    // No schema default: a filled-in default would make checkpoints of earlier versions differ at --resume.
    Type.Number({
      minimum: 0,
      description:
        'L2 regularisation: weightDecay·θ is added to every gradient before the update (as torch.optim weight_decay). Default 0 (none). For decoupled decay use type adamw.',
    }),
  ),
});

/** Optimizers, after tfjs' `tf.train.*` with the same option names. */
export const OptimizerSchema = Type.Union([
  Type.Object(
    { type: Type.Literal('sgd'), learningRate: lr(0.01), ...common() },
    { ...strict, description: 'Plain stochastic gradient descent (tf.train.sgd).' },
  ),
  Type.Object(
    {
      type: Type.Literal('momentum'),
      ...common(),
      learningRate: lr(0.01),
      momentum: Type.Optional(
        Type.Number({ minimum: 0, default: 0.9, description: 'Momentum factor: share of the previous update kept.' }),
      ),
      useNesterov: Type.Optional(Type.Boolean({ default: false, description: 'Use Nesterov momentum.' })),
    },
    { ...strict, description: 'SGD with momentum (tf.train.momentum).' },
  ),
  Type.Object(
    {
      type: Type.Literal('adam'),
      ...common(),
      learningRate: lr(0.001),
      beta1: b1(),
      beta2: b2(),
      epsilon: eps(),
    },
    { ...strict, description: 'Adam: adaptive moments (tf.train.adam).' },
  ),
  Type.Object(
    {
      type: Type.Literal('adamw'),
      learningRate: lr(0.001),
      beta1: b1(),
      beta2: b2(),
      epsilon: eps(),
      schedule: Type.Optional(ScheduleSchema),
      weightDecay: Type.Optional(
        Type.Number({
          minimum: 0,
          default: 0.01,
          description:
            'Decoupled weight decay: before each Adam update θ ← θ·(1 − lr·weightDecay), lr the scheduled rate (torch.optim.AdamW).',
        }),
      ),
    },
    { ...strict, description: 'AdamW: Adam with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW).' },
  ),
  Type.Object(
    {
      type: Type.Literal('rmsprop'),
      ...common(),
      learningRate: lr(0.001),
      decay: Type.Optional(
        Type.Number({
          minimum: 0,
          default: 0.9,
          description: 'Discounting factor of the running average of squared gradients.',
        }),
      ),
      momentum: Type.Optional(Type.Number({ minimum: 0, default: 0, description: 'Momentum factor (0: none).' })),
      epsilon: eps(),
      centered: Type.Optional(
        Type.Boolean({
          default: false,
          description: 'Normalise by the estimated variance of the gradient instead of its second moment.',
        }),
      ),
    },
    { ...strict, description: 'RMSProp: rates scaled by a running average of squared gradients (tf.train.rmsprop).' },
  ),
  Type.Object(
    {
      type: Type.Literal('adagrad'),
      ...common(),
      learningRate: lr(0.01),
      initialAccumulatorValue: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          default: 0.1,
          description: 'Starting value of the squared-gradient accumulators.',
        }),
      ),
    },
    { ...strict, description: 'Adagrad: per-parameter rates from accumulated squared gradients (tf.train.adagrad).' },
  ),
  Type.Object(
    {
      type: Type.Literal('adamax'),
      ...common(),
      learningRate: lr(0.002),
      beta1: b1(),
      beta2: b2(),
      epsilon: eps(),
      decay: Type.Optional(
        Type.Number({ minimum: 0, default: 0, description: 'Learning-rate decay per step (0: none).' }),
      ),
    },
    { ...strict, description: 'Adamax: Adam with the infinity norm (tf.train.adamax).' },
  ),
]);

/** The optimizer section. */
export type OptimizerSpec = Static<typeof OptimizerSchema>;

/** One optimizer setting that differs between two pipelines, its values as JSON text. */
export interface OptimizerChange {
  readonly setting: string;
  readonly from: string;
  readonly to: string;
}

/**
 * The settings of one optimizer type that differ between `earlier` and `now`, in the schema's order:
 * every option of the type (learning rate, betas, epsilon, momentum, decay, …), an option left out
 * counting as its schema default. Empty when the types differ (their options are not comparable).
 * Called when a run continues from an earlier run (`--from`) to say what the carried-over state meets.
 */
export function optimizerChanges(earlier: OptimizerSpec, now: OptimizerSpec): OptimizerChange[] {
  if (earlier.type !== now.type) return [];
  const branch = OptimizerSchema.anyOf.find((s) => s.properties.type.const === now.type);
  const properties = (branch?.properties ?? {}) as Record<string, { default?: unknown }>;
  const a = earlier as Record<string, unknown>;
  const b = now as Record<string, unknown>;
  const settings = [...new Set([...Object.keys(properties), ...Object.keys(a), ...Object.keys(b)])];
  return settings
    .filter((k) => k !== 'type')
    .flatMap((setting) => {
      const from = JSON.stringify(a[setting] ?? properties[setting]?.default);
      const to = JSON.stringify(b[setting] ?? properties[setting]?.default);
      return from === to ? [] : [{ setting, from: String(from), to: String(to) }];
    });
}
