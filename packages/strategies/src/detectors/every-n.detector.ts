import { Type, type BoundaryDetector, type ComponentDescriptor, type SerializedState, type Static } from '@engram/core';
import { metaNumber, metaObject } from '../common/tensor-state.js';

/** Options of the `every-n` detector. */
export const EveryNOptions = Type.Object(
  {
    samples: Type.Integer({ minimum: 1, default: 1000, description: 'A boundary after every this many samples.' }),
  },
  { additionalProperties: false },
);

/** A fixed schedule: a boundary each time another `samples` samples have been seen. */
export class EveryNDetector implements BoundaryDetector {
  readonly reason: string;
  private count = 0;

  constructor(private readonly options: Static<typeof EveryNOptions>) {
    this.reason = `every ${options.samples} samples`;
  }

  update(losses: Float32Array): boolean {
    this.count += losses.length;
    if (this.count < this.options.samples) return false;
    this.count %= this.options.samples;
    return true;
  }

  state(): SerializedState {
    return { meta: { count: this.count } };
  }

  restore(state: SerializedState): void {
    this.count = metaNumber(metaObject(state.meta, 'every-n'), 'count', 'every-n');
  }
}

/** Registration of `every-n`. */
export const everyNDescriptors: ComponentDescriptor[] = [
  {
    role: 'detector',
    kind: 'every-n',
    description: 'A boundary after every N samples (a fixed consolidation schedule).',
    options: EveryNOptions,
    create: (o) => new EveryNDetector(o as Static<typeof EveryNOptions>),
  },
];
