import { Type, type ComponentDescriptor, type Strategy } from '@engram/core';

/** Options of {@link NaiveStrategy}: none. */
export const NaiveOptions = Type.Object(
  {},
  { additionalProperties: false, description: 'Plain fine-tuning has no options.' },
);

/**
 * Naive fine-tuning: trains on each experience in turn with the plain cross-entropy and does nothing
 * against forgetting. It is the lower bound every continual-learning paper reports (e.g. "fine-tuning"
 * in van de Ven et al. 2019, "Three scenarios for continual learning"). It has no hooks and no state.
 */
export class NaiveStrategy implements Strategy {
  readonly name = 'naive';
}

/** Registration of `naive`. */
export const naiveDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'naive',
    description: 'Plain fine-tuning on each experience in turn (the lower bound; no protection against forgetting).',
    options: NaiveOptions,
    create: () => new NaiveStrategy(),
  },
];
