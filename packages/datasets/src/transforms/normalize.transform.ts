import {
  StringEnum,
  Type,
  type Batch,
  type ComponentDescriptor,
  type Experience,
  type SerializedState,
  type Static,
  type Transform,
  type TransformPhase,
} from '@engram/core';

const numberOrList = (description: string) =>
  Type.Union([Type.Number(), Type.Array(Type.Number(), { minItems: 1 })], { description });

/** Options of the `normalize` step. */
export const NormalizeOptions = Type.Object(
  {
    mean: Type.Optional(
      numberOrList('Given mean: one number, or one per channel (last axis). Give with std, or neither to fit.'),
    ),
    std: Type.Optional(numberOrList('Given standard deviation (same layout as mean).')),
    per: StringEnum(['global', 'channel', 'feature'] as const, {
      default: 'channel',
      description: 'Fitted statistics: one pair, one per channel (last axis), or one per feature value.',
    }),
    fitSamples: Type.Integer({
      minimum: 1,
      default: 10000,
      description: 'At most this many training samples of the first experience are used to fit.',
    }),
    epsilon: Type.Number({ minimum: 0, default: 1e-6, description: 'Added to std to avoid dividing by zero.' }),
  },
  { additionalProperties: false },
);
export type NormalizeOptions = Static<typeof NormalizeOptions>;

/**
 * `(x - mean) / (std + epsilon)`. With no given statistics they are fitted once, in `beforeExperience` of
 * the first experience, on its training data only (never later data). For an endless (live) source the
 * first training batch is used instead of reading ahead. Before fitting, test batches pass unchanged.
 */
export class NormalizeTransform implements Transform {
  private mean: Float32Array | undefined;
  private std: Float32Array | undefined;

  constructor(private readonly o: NormalizeOptions) {
    if ((o.mean === undefined) !== (o.std === undefined))
      throw new Error('normalize: give both mean and std, or neither (to fit them)');
    if (o.mean !== undefined && o.std !== undefined) {
      this.mean = Float32Array.from(Array.isArray(o.mean) ? o.mean : [o.mean]);
      this.std = Float32Array.from(Array.isArray(o.std) ? o.std : [o.std]);
      if (this.mean.length !== this.std.length) throw new Error('normalize: mean and std have different lengths');
    }
  }

  async beforeExperience(experience: Experience): Promise<void> {
    if (this.mean || experience.train.endless) return;
    const batches: Batch[] = [];
    let n = 0;
    for await (const b of experience.train.batches({ batchSize: 1024, shuffle: false, epoch: 0, seed: 0 })) {
      batches.push(b);
      n += b.y.length;
      if (n >= this.o.fitSamples) break;
    }
    if (batches.length > 0) this.fit(batches, this.o.fitSamples);
  }

  apply(batch: Batch, phase: TransformPhase): Batch {
    if (!this.mean && phase === 'train') this.fit([batch], this.o.fitSamples);
    const mean = this.mean;
    const std = this.std;
    if (!mean || !std) return batch;
    const k = mean.length;
    const len = batch.sampleShape.reduce((a, b) => a * b, 1);
    const channels = batch.sampleShape[batch.sampleShape.length - 1] ?? 1;
    if (k !== 1 && k !== channels && k !== len)
      throw new Error(`normalize: ${k} statistics do not fit samples of shape [${batch.sampleShape.join(', ')}]`);
    const period = k === len ? len : k;
    const x = new Float32Array(batch.x.length);
    const eps = this.o.epsilon;
    for (let i = 0; i < x.length; i++) {
      const j = k === 1 ? 0 : i % period;
      x[i] = ((batch.x[i] as number) - (mean[j] as number)) / ((std[j] as number) + eps);
    }
    return { ...batch, x };
  }

  /** Fitted (or given) statistics, or undefined before fitting. */
  statistics(): { mean: Float32Array; std: Float32Array } | undefined {
    return this.mean && this.std ? { mean: this.mean, std: this.std } : undefined;
  }

  state(): SerializedState {
    if (!this.mean || !this.std) return { meta: { fitted: false } };
    const shape = [this.mean.length];
    return {
      meta: { fitted: true },
      arrays: { mean: { dtype: 'float32', shape, data: this.mean }, std: { dtype: 'float32', shape, data: this.std } },
    };
  }

  restore(state: SerializedState): void {
    const m = state.arrays?.['mean'];
    const s = state.arrays?.['std'];
    if (m && s) {
      this.mean = Float32Array.from(m.data);
      this.std = Float32Array.from(s.data);
    }
  }

  private fit(batches: readonly Batch[], limit: number): void {
    const first = batches[0] as Batch;
    const len = first.sampleShape.reduce((a, b) => a * b, 1);
    const channels = first.sampleShape[first.sampleShape.length - 1] ?? 1;
    const k = this.o.per === 'global' ? 1 : this.o.per === 'channel' ? channels : len;
    const sum = new Float64Array(k);
    const sq = new Float64Array(k);
    const count = new Float64Array(k);
    let used = 0;
    for (const b of batches) {
      const rows = Math.min(b.y.length, limit - used);
      for (let i = 0; i < rows * len; i++) {
        const j = k === 1 ? 0 : i % k;
        const v = b.x[i] as number;
        sum[j] = (sum[j] as number) + v;
        sq[j] = (sq[j] as number) + v * v;
        count[j] = (count[j] as number) + 1;
      }
      used += rows;
      if (used >= limit) break;
    }
    this.mean = Float32Array.from(sum, (s, j) => s / (count[j] as number));
    this.std = Float32Array.from(sq, (s, j) => {
      const m = (sum[j] as number) / (count[j] as number);
      return Math.sqrt(Math.max(0, s / (count[j] as number) - m * m));
    });
  }
}

/** The `normalize` transform component. */
export const normalizeDescriptor: ComponentDescriptor = {
  role: 'transform',
  kind: 'normalize',
  description: 'Standardise features with given mean/std, or ones fitted on the first experience only.',
  options: NormalizeOptions,
  create: (options) => new NormalizeTransform(options as NormalizeOptions),
};
