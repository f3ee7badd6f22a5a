import { Type, type Batch, type ComponentDescriptor, type StreamInfo, type Static, type Transform } from '@engram/core';

/** Options of the `scale` step. */
export const ScaleOptions = Type.Object(
  {
    factor: Type.Number({ default: 1, description: 'Multiply every feature by this…' }),
    offset: Type.Number({ default: 0, description: '…then add this.' }),
  },
  { additionalProperties: false },
);
export type ScaleOptions = Static<typeof ScaleOptions>;

/** `x * factor + offset`, e.g. `factor: 1/255` for byte images or `factor: 2, offset: -1` for [-1, 1]. */
export class ScaleTransform implements Transform {
  constructor(private readonly o: ScaleOptions) {}

  apply(batch: Batch): Batch {
    const { factor, offset } = this.o;
    return { ...batch, x: batch.x.map((v) => v * factor + offset) };
  }
}

/** Options of the `reshape` step. */
export const ReshapeOptions = Type.Object(
  {
    shape: Type.Array(Type.Integer({ minimum: -1 }), {
      minItems: 1,
      description: 'New sample shape; one entry may be -1 (inferred). 0 is not allowed.',
    }),
  },
  { additionalProperties: false },
);
export type ReshapeOptions = Static<typeof ReshapeOptions>;

/** Resolves a target shape against `length` values (one `-1` is inferred). */
export function resolveShape(shape: readonly number[], length: number): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.includes(0))
    throw new Error(`reshape: shape [${shape.join(', ')}] may hold one -1 and no 0`);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = shape.map((d) => (d === -1 ? length / known : d));
  if (out.some((d) => !Number.isInteger(d)) || out.reduce((a, b) => a * b, 1) !== length) {
    throw new Error(`reshape: samples of ${length} values cannot take shape [${shape.join(', ')}]`);
  }
  return out;
}

/** Changes the sample shape (the values are shared, not copied). */
export class ReshapeTransform implements Transform {
  private resolved: number[] | undefined;

  constructor(private readonly o: ReshapeOptions) {}

  outputShape(inputShape: readonly number[]): number[] {
    this.resolved = resolveShape(
      this.o.shape,
      inputShape.reduce((a, b) => a * b, 1),
    );
    return this.resolved;
  }

  apply(batch: Batch): Batch {
    const shape =
      this.resolved ??
      resolveShape(
        this.o.shape,
        batch.sampleShape.reduce((a, b) => a * b, 1),
      );
    return { ...batch, sampleShape: shape };
  }
}

/** Options of the `one-hot` step. */
export const OneHotOptions = Type.Object(
  {
    smoothing: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0,
      description: 'Label smoothing: the true class gets 1 - s + s/K, the others s/K.',
    }),
  },
  { additionalProperties: false },
);
export type OneHotOptions = Static<typeof OneHotOptions>;

/** Sets `Batch.targets` to one-hot (optionally smoothed) rows over the stream's `numClasses`; `y` is kept. */
export class OneHotTransform implements Transform {
  private numClasses: number | undefined;

  constructor(private readonly o: OneHotOptions) {}

  outputShape(inputShape: readonly number[], info: StreamInfo): number[] {
    this.numClasses = info.numClasses;
    return [...inputShape];
  }

  apply(batch: Batch): Batch {
    const k = this.numClasses;
    if (k === undefined) throw new Error('one-hot: the number of classes is unknown (outputShape was not called)');
    const s = this.o.smoothing;
    const targets = new Float32Array(batch.y.length * k).fill(s / k);
    batch.y.forEach((c, i) => {
      if (c < 0 || c >= k) throw new Error(`one-hot: label ${c} outside 0..${k - 1}`);
      targets[i * k + c] = 1 - s + s / k;
    });
    return { ...batch, targets };
  }
}

/** The shape/scale/label transform components. */
export const shapeDescriptors: readonly ComponentDescriptor[] = [
  {
    role: 'transform',
    kind: 'scale',
    description: 'Affine rescaling of every feature: x * factor + offset.',
    options: ScaleOptions,
    create: (o) => new ScaleTransform(o as ScaleOptions),
  },
  {
    role: 'transform',
    kind: 'reshape',
    description: 'Give samples a new shape (e.g. [784] to [28, 28, 1]).',
    options: ReshapeOptions,
    create: (o) => new ReshapeTransform(o as ReshapeOptions),
  },
  {
    role: 'transform',
    kind: 'one-hot',
    description: 'Set one-hot (optionally label-smoothed) soft targets from the labels.',
    options: OneHotOptions,
    create: (o) => new OneHotTransform(o as OneHotOptions),
  },
];
