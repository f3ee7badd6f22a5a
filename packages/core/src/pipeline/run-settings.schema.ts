import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';
import { ValidationSchema } from './validation.schema.js';

/**
 * The run settings of a pipeline document — `training`, `evaluation`, `checkpoint`, `output` — as
 * TypeBox schemas; `pipeline.schema.ts` composes them into the whole document's schema.
 */

/** Schema options of an object that takes no properties besides its own. */
export const strict = { additionalProperties: false } as const;

/** `training` may state a budget in epochs or in iterations, not both. */
export const BOTH_BUDGETS = {
  required: ['epochs', 'iterations'],
  description: 'set either epochs or iterations, not both',
};

/** Training loop settings. */
export const TrainingSchema = Type.Object(
  {
    epochs: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Passes over each experience (finite streams); default 1. Exclusive with iterations.',
      }),
    ),
    batchSize: Type.Integer({ minimum: 1, default: 32, description: 'Samples per optimizer step.' }),
    shuffle: Type.Boolean({ default: true, description: 'Shuffle each epoch (seeded).' }),
    maxSamples: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Stream mode: stop after training on this many records of the stream (replayed rows are not counted).',
      }),
    ),
    logEvery: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Emit a batch-end event every N batches (always on the last one).',
    }),
    iterations: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Optimizer steps per experience (finite streams): epochs over the experience's training data (or a " +
          "strategy's, e.g. joint's union or GDumb's memory) until this many steps are done. Exclusive with epochs.",
      }),
    ),
    clipNorm: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'Clip gradients by global norm: when the L2 norm of all gradients together (penalties included) exceeds this, they are scaled down to it (torch clip_grad_norm_).',
      }),
    ),
    clipValue: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Clip every gradient element into [-clipValue, clipValue] (after clipNorm when both are set).',
      }),
    ),
    validation: Type.Optional(ValidationSchema),
    loss: Type.Optional(
      StringEnum(['cross-entropy', 'mse', 'mae', 'huber'] as const, {
        description:
          'Training loss. Classification: cross-entropy (the default and only choice). task "regression": mse ' +
          '(default), mae or huber, averaged over the outputs.',
      }),
    ),
    huberDelta: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          "Threshold δ of the huber loss (torch's HuberLoss delta): quadratic below, linear above; default 1.",
      }),
    ),
  },
  { ...strict, not: BOTH_BUDGETS },
);

/** Evaluation settings. */
export const EvaluationSchema = Type.Object(
  {
    every: StringEnum(['experience', 'never'] as const, {
      default: 'experience',
      description: 'When to evaluate on the test sets.',
    }),
    on: StringEnum(['all', 'seen'] as const, {
      default: 'all',
      description: 'Test sets of all experiences (needed for FWT), or only those seen so far.',
    }),
    initial: Type.Boolean({ default: true, description: 'Evaluate the untrained model first (for forward transfer).' }),
    batchSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Samples per evaluation batch (memory only; results do not depend on it).',
    }),
    window: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Stream mode: sliding window of prequential accuracy (samples).',
    }),
    fading: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.999,
      description: 'Stream mode: fading factor of prequential accuracy.',
    }),
  },
  strict,
);

/** Checkpoint schedule. */
export const CheckpointSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Write checkpoints (needed for --resume and export).' }),
    dir: Type.Optional(Type.String({ minLength: 1, description: 'Default: <output dir>/checkpoints.' })),
    everyExperience: Type.Boolean({ default: true, description: 'Checkpoint at the end of every experience.' }),
    everyBatches: Type.Optional(Type.Integer({ minimum: 1, description: 'Also checkpoint every N training batches.' })),
    everySeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Also checkpoint when this many seconds passed since the last one (checked after each batch).',
      }),
    ),
    keep: Type.Integer({ minimum: 1, default: 2, description: 'How many checkpoints to keep.' }),
  },
  strict,
);

/** Output settings. */
export const OutputSchema = Type.Object(
  {
    dir: Type.Optional(Type.String({ minLength: 1, description: 'Default: runs/<name> (the CLI --out wins).' })),
  },
  strict,
);

/** Settings that have defaults and so are always present after validation. */
export type TrainingSettings = Static<typeof TrainingSchema>;
export type EvaluationSettings = Static<typeof EvaluationSchema>;
export type CheckpointSettings = Static<typeof CheckpointSchema>;
export type OutputSettings = Static<typeof OutputSchema>;
