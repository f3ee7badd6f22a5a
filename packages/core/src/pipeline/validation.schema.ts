import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';

/** `training.validation.earlyStopping`: stop an experience's epochs when validation stops improving. */
export const EarlyStoppingSchema = Type.Object(
  {
    patience: Type.Integer({
      minimum: 1,
      description:
        'Epochs without improvement after which the experience stops training (its next epochs are skipped).',
    }),
    metric: Type.Optional(
      StringEnum(['loss', 'accuracy'] as const, {
        default: 'loss',
        description: 'Validation metric watched: the mean loss or the accuracy on the held-out part.',
      }),
    ),
    mode: Type.Optional(
      StringEnum(['min', 'max'] as const, {
        description: 'Whether lower (min) or higher (max) is better. Default: max for accuracy, min otherwise.',
      }),
    ),
    minDelta: Type.Optional(
      Type.Number({
        minimum: 0,
        default: 0,
        description: 'An epoch improves only when it beats the best so far by more than this.',
      }),
    ),
    restoreBest: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "At the experience's end, put back the trainable weights of its best epoch (kept in memory and checkpoints) before the strategies consolidate.",
      }),
    ),
  },
  { additionalProperties: false, description: 'Early stopping per experience, on the validation metric.' },
);

/** `training.validation`: a held-out part of each experience's training data, measured every epoch. */
export const ValidationSchema = Type.Object(
  {
    fraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description:
        "Share of each experience's training data held out (seeded, the same on resume); it is not trained on. The experience's training data is held in memory. Finite experiences only.",
    }),
    earlyStopping: Type.Optional(EarlyStoppingSchema),
  },
  {
    additionalProperties: false,
    description: 'Validation split: per-epoch validation loss and accuracy in epoch-end events.',
  },
);

export type ValidationSettings = Static<typeof ValidationSchema>;
export type EarlyStoppingSettings = Static<typeof EarlyStoppingSchema>;
