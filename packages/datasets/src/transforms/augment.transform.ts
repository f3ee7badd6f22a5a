import {
  Type,
  type Batch,
  type ComponentDescriptor,
  type Rng,
  type SerializedState,
  type Static,
  type Transform,
  type TransformPhase,
} from '@engram/core';
import { imageDims } from '../scenarios/domain-maps.js';

/** Options of the `augment` step. */
export const AugmentOptions = Type.Object(
  {
    shift: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Random translation by up to this many pixels each way, zero-filled (pad-and-crop).',
    }),
    flip: Type.Boolean({ default: false, description: 'Mirror half of the images horizontally.' }),
    noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of added Gaussian noise.' }),
  },
  { additionalProperties: false },
);
export type AugmentOptions = Static<typeof AugmentOptions>;

/**
 * Random augmentation of training batches only (test batches pass unchanged): shift/crop, horizontal
 * flip, Gaussian noise. Draws come from the component's seeded generator, whose state is checkpointed, so
 * a resumed run draws the same numbers.
 */
export class AugmentTransform implements Transform {
  constructor(
    private readonly o: AugmentOptions,
    private readonly rng: Rng,
  ) {}

  outputShape(inputShape: readonly number[]): number[] {
    if (this.o.shift > 0 || this.o.flip) imageDims(inputShape);
    return [...inputShape];
  }

  apply(batch: Batch, phase: TransformPhase): Batch {
    if (phase !== 'train' || (this.o.shift === 0 && !this.o.flip && this.o.noise === 0)) return batch;
    const len = batch.sampleShape.reduce((a, b) => a * b, 1);
    const geometric = this.o.shift > 0 || this.o.flip;
    const [h, w, ch] = geometric ? imageDims(batch.sampleShape) : [1, len, 1];
    const x = new Float32Array(batch.x.length);
    const s = this.o.shift;
    for (let n = 0; n < batch.y.length; n++) {
      const src = batch.x.subarray(n * len, (n + 1) * len);
      const dst = x.subarray(n * len, (n + 1) * len);
      if (geometric) {
        const dy = s > 0 ? this.rng.int(2 * s + 1) - s : 0;
        const dx = s > 0 ? this.rng.int(2 * s + 1) - s : 0;
        const flip = this.o.flip && this.rng.next() < 0.5;
        for (let r = 0; r < h; r++) {
          const sr = r - dy;
          if (sr < 0 || sr >= h) continue;
          for (let c = 0; c < w; c++) {
            const cc = flip ? w - 1 - c : c;
            const sc = cc - dx;
            if (sc < 0 || sc >= w) continue;
            for (let k = 0; k < ch; k++) dst[(r * w + c) * ch + k] = src[(sr * w + sc) * ch + k] as number;
          }
        }
      } else {
        dst.set(src);
      }
      if (this.o.noise > 0)
        for (let i = 0; i < len; i++) dst[i] = (dst[i] as number) + this.rng.normal() * this.o.noise;
    }
    return { ...batch, x };
  }

  state(): SerializedState {
    return { meta: { rng: this.rng.state() } };
  }

  restore(state: SerializedState): void {
    const meta = state.meta as { rng?: number[] } | undefined;
    if (meta?.rng) this.rng.restore(meta.rng);
  }
}

/** The `augment` transform component. */
export const augmentDescriptor: ComponentDescriptor = {
  role: 'transform',
  kind: 'augment',
  description: 'Seeded random augmentation of training batches: shift/crop, horizontal flip, Gaussian noise.',
  options: AugmentOptions,
  create: (options, services) => new AugmentTransform(options as AugmentOptions, services.rng),
};
