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

/** Options of the `random-crop` step. */
export const RandomCropOptions = Type.Object(
  {
    padding: Type.Integer({
      minimum: 0,
      default: 4,
      description: 'Zero padding added on every side before a crop of the original size is cut at random.',
    }),
  },
  { additionalProperties: false },
);
export type RandomCropOptions = Static<typeof RandomCropOptions>;

/** Options of the `horizontal-flip` step. */
export const HorizontalFlipOptions = Type.Object(
  {
    p: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Probability that an image is mirrored.' }),
  },
  { additionalProperties: false },
);
export type HorizontalFlipOptions = Static<typeof HorizontalFlipOptions>;

/** Options of the `color-jitter` step. */
export const ColorJitterOptions = Type.Object(
  {
    brightness: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Multiply by a factor drawn from [1 - b, 1 + b] (torchvision ColorJitter).',
    }),
    contrast: Type.Number({
      minimum: 0,
      default: 0,
      description: "Blend with the image's mean grey by a factor from [1 - c, 1 + c].",
    }),
    saturation: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Blend with the grey image by a factor from [1 - s, 1 + s] (RGB only).',
    }),
    max: Type.Number({ default: 1, description: 'Values are clipped to [0, max] (1 for 0..1 pixels).' }),
  },
  { additionalProperties: false },
);
export type ColorJitterOptions = Static<typeof ColorJitterOptions>;

/**
 * Base of the seeded per-image augmentations: training batches only (test batches pass unchanged), draws
 * from the component's generator, whose state is checkpointed, so a resumed run draws the same numbers.
 */
abstract class SeededImageTransform implements Transform {
  constructor(protected readonly rng: Rng) {}

  outputShape(inputShape: readonly number[]): number[] {
    imageDims(inputShape);
    return [...inputShape];
  }

  apply(batch: Batch, phase: TransformPhase): Batch {
    if (phase !== 'train' || !this.active()) return batch;
    const [h, w, c] = imageDims(batch.sampleShape);
    const len = h * w * c;
    const x = new Float32Array(batch.x.length);
    for (let n = 0; n < batch.y.length; n++)
      this.image(batch.x.subarray(n * len, (n + 1) * len), x.subarray(n * len, (n + 1) * len), h, w, c);
    return { ...batch, x };
  }

  state(): SerializedState {
    return { meta: { rng: this.rng.state() } };
  }

  restore(state: SerializedState): void {
    const meta = state.meta as { rng?: number[] } | undefined;
    if (meta?.rng) this.rng.restore(meta.rng);
  }

  protected abstract active(): boolean;
  protected abstract image(src: Float32Array, dst: Float32Array, h: number, w: number, c: number): void;
}

/** Pads with zeros and cuts a random window of the original size (torchvision RandomCrop(size, padding)). */
export class RandomCropTransform extends SeededImageTransform {
  constructor(
    private readonly o: RandomCropOptions,
    rng: Rng,
  ) {
    super(rng);
  }

  protected active(): boolean {
    return this.o.padding > 0;
  }

  protected image(src: Float32Array, dst: Float32Array, h: number, w: number, c: number): void {
    const p = this.o.padding;
    const dy = this.rng.int(2 * p + 1) - p;
    const dx = this.rng.int(2 * p + 1) - p;
    for (let r = 0; r < h; r++) {
      const sr = r + dy;
      if (sr < 0 || sr >= h) continue;
      for (let col = 0; col < w; col++) {
        const sc = col + dx;
        if (sc < 0 || sc >= w) continue;
        for (let k = 0; k < c; k++) dst[(r * w + col) * c + k] = src[(sr * w + sc) * c + k] as number;
      }
    }
  }
}

/** Mirrors each image left-right with probability `p`. */
export class HorizontalFlipTransform extends SeededImageTransform {
  constructor(
    private readonly o: HorizontalFlipOptions,
    rng: Rng,
  ) {
    super(rng);
  }

  protected active(): boolean {
    return this.o.p > 0;
  }

  protected image(src: Float32Array, dst: Float32Array, h: number, w: number, c: number): void {
    if (!(this.rng.next() < this.o.p)) {
      dst.set(src);
      return;
    }
    for (let r = 0; r < h; r++)
      for (let col = 0; col < w; col++)
        for (let k = 0; k < c; k++) dst[(r * w + col) * c + k] = src[(r * w + (w - 1 - col)) * c + k] as number;
  }
}

/** Random brightness, contrast and saturation per image, in that order (torchvision's fixed order). */
export class ColorJitterTransform extends SeededImageTransform {
  constructor(
    private readonly o: ColorJitterOptions,
    rng: Rng,
  ) {
    super(rng);
  }

  protected active(): boolean {
    return this.o.brightness > 0 || this.o.contrast > 0 || this.o.saturation > 0;
  }

  protected image(src: Float32Array, dst: Float32Array, h: number, w: number, c: number): void {
    const factor = (range: number): number => (range > 0 ? 1 - range + 2 * range * this.rng.next() : 1);
    const b = factor(this.o.brightness);
    const k = factor(this.o.contrast);
    const s = c === 3 ? factor(this.o.saturation) : 1;
    const max = this.o.max;
    const clip = (v: number): number => (v < 0 ? 0 : v > max ? max : v);
    const pixels = h * w;
    for (let i = 0; i < pixels * c; i++) dst[i] = clip((src[i] as number) * b);
    if (k !== 1) {
      let mean = 0;
      for (let i = 0; i < pixels; i++) mean += grey(dst, i, c);
      mean /= pixels;
      for (let i = 0; i < pixels * c; i++) dst[i] = clip(k * (dst[i] as number) + (1 - k) * mean);
    }
    if (s !== 1)
      for (let i = 0; i < pixels; i++) {
        const g = grey(dst, i, c);
        for (let ch = 0; ch < 3; ch++) dst[i * 3 + ch] = clip(s * (dst[i * 3 + ch] as number) + (1 - s) * g);
      }
  }
}

/** ITU-R 601 luma of pixel `i` (the value itself for one channel). */
function grey(x: Float32Array, i: number, c: number): number {
  if (c !== 3) return x[i * c] as number;
  return 0.299 * (x[i * 3] as number) + 0.587 * (x[i * 3 + 1] as number) + 0.114 * (x[i * 3 + 2] as number);
}

/** The seeded image augmentation components. */
export const imageTransformDescriptors: readonly ComponentDescriptor[] = [
  {
    role: 'transform',
    kind: 'random-crop',
    description: 'Seeded random crop of training images after zero padding (translation by up to padding pixels).',
    options: RandomCropOptions,
    create: (o, services) => new RandomCropTransform(o as RandomCropOptions, services.rng),
  },
  {
    role: 'transform',
    kind: 'horizontal-flip',
    description: 'Seeded random left-right mirroring of training images.',
    options: HorizontalFlipOptions,
    create: (o, services) => new HorizontalFlipTransform(o as HorizontalFlipOptions, services.rng),
  },
  {
    role: 'transform',
    kind: 'color-jitter',
    description: 'Seeded random brightness, contrast and saturation of training images.',
    options: ColorJitterOptions,
    create: (o, services) => new ColorJitterTransform(o as ColorJitterOptions, services.rng),
  },
];
