import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';

/**
 * `optimizer.schedule`: the learning rate as a function of a counter `t` (steps or epochs, counted per
 * experience or over the run), with an optional linear warm-up first. With `base` the optimizer's
 * `learningRate`, `W` the warm-up and `u = t − W`:
 * warm-up (`t < W`) `base·(t+1)/W`; `constant` `base`; `step` `base·gamma^⌊u/stepSize⌋`;
 * `exponential` `base·gamma^u`; `cosine` `min + (base − min)·(1 + cos(π·min(u, period)/period))/2`.
 */
export const ScheduleSchema = Type.Object(
  {
    type: StringEnum(['constant', 'step', 'exponential', 'cosine'] as const, {
      description:
        'Shape of the schedule after the warm-up: constant, step (×gamma every stepSize), exponential (×gamma every interval) or cosine (half a cosine from learningRate down to minLearningRate over period).',
      enumDescriptions: [
        'The learningRate throughout (after the warm-up, if any).',
        'learningRate·gamma^⌊u/stepSize⌋ (torch StepLR).',
        'learningRate·gamma^u (torch ExponentialLR).',
        'minLearningRate + (learningRate − minLearningRate)·(1 + cos(π·u/period))/2, then minLearningRate (torch CosineAnnealingLR).',
      ],
    }),
    interval: Type.Optional(
      StringEnum(['step', 'epoch'] as const, {
        default: 'epoch',
        description:
          'What the schedule counts: optimizer steps, or epochs (the rate then changes at each epoch start). Stream runs have no epochs: use step.',
      }),
    ),
    scope: Type.Optional(
      StringEnum(['experience', 'run'] as const, {
        default: 'experience',
        description:
          'experience: the count starts again at every experience (warm-up and schedule repeat); run: one schedule over the whole run (and its --from continuations).',
      }),
    ),
    warmup: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Intervals of linear warm-up before the schedule: the rate rises as learningRate·(t+1)/warmup.',
      }),
    ),
    gamma: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: 'Multiplicative decay of step (default 0.1) and exponential (default 0.95) schedules.',
      }),
    ),
    stepSize: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Step schedule: intervals between two decays (required for step).' }),
    ),
    period: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Cosine: intervals from learningRate to minLearningRate (the rate then stays there). Default, scope experience: the experience's epochs (interval epoch) or training.iterations (interval step), minus the warm-up; required otherwise.",
      }),
    ),
    minLearningRate: Type.Optional(
      Type.Number({ minimum: 0, default: 0, description: 'Cosine: the rate at the end of the period.' }),
    ),
  },
  { additionalProperties: false, description: 'Learning-rate schedule (checkpointed; resumes exactly).' },
);

/** `optimizer.schedule`. */
export type ScheduleSpec = Static<typeof ScheduleSchema>;
