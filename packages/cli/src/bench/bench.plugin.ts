import { of, type Observable } from 'rxjs';
import {
  ArrayBatchSource,
  ContainerModule,
  Rng,
  TOKENS,
  Type,
  type Batch,
  type Static,
  type ComponentDescriptor,
  type DataSource,
  type Experience,
  type PluginManifest,
  type StreamInfo,
} from '@engram/core';

/** Options of the benchmark's `bench-random` dataset. */
const RandomOptions = Type.Object(
  {
    warmupSamples: Type.Integer({ minimum: 1, default: 512 }),
    samples: Type.Integer({ minimum: 1, default: 12800 }),
    sampleShape: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, default: [28, 28, 1] }),
    vocabulary: Type.Optional(Type.Integer({ minimum: 2 })),
  },
  { additionalProperties: false },
);
type RandomOptions = Static<typeof RandomOptions>;

/**
 * `n` random samples: uniform [0, 1) values of `sampleShape`, or with `vocabulary` uniform token ids
 * below it (as floats, as a CSV source gives them), each labelled with one of `classes`.
 */
export function randomHostBatch(
  rng: Rng,
  n: number,
  classes: readonly number[],
  o: { readonly sampleShape: readonly number[]; readonly vocabulary?: number },
): Batch {
  const length = o.sampleShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * length);
  for (let i = 0; i < x.length; i++) x[i] = o.vocabulary ? rng.int(o.vocabulary) : rng.next();
  const y = Int32Array.from({ length: n }, () => classes[rng.int(classes.length)] as number);
  return { x, y, sampleShape: [...o.sampleShape] };
}

/**
 * Two experiences of uniform random samples (28×28×1 images by default, as the PyTorch reference script
 * uses; any `sampleShape`, or token ids): a short warm-up experience (so EWC has a Fisher for the
 * measured one) and the measured experience.
 */
class RandomImages implements DataSource {
  constructor(
    private readonly options: RandomOptions,
    private readonly seed: number,
  ) {}
  async describe(): Promise<StreamInfo> {
    return { inputShape: [...this.options.sampleShape], numClasses: 10, experiences: 2, scenario: 'benchmark' };
  }
  experiences(): Observable<Experience> {
    const rng = new Rng(this.seed);
    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    return of(
      {
        index: 0,
        classes: all,
        train: new ArrayBatchSource(randomHostBatch(rng, this.options.warmupSamples, all, this.options)),
      },
      {
        index: 1,
        classes: all,
        train: new ArrayBatchSource(randomHostBatch(rng, this.options.samples, all, this.options)),
      },
    );
  }
}

const descriptors: ComponentDescriptor[] = [
  {
    role: 'dataset',
    kind: 'bench-random',
    description: 'Random images for speed benchmarks.',
    options: RandomOptions,
    create: (o, s) => new RandomImages(o as RandomOptions, s.seed),
  },
  {
    role: 'strategy',
    kind: 'bench-naive',
    description: 'Plain fine-tuning, so the engine benchmark needs no strategy plugin.',
    options: Type.Object({}, { additionalProperties: false }),
    create: () => ({ name: 'naive' }),
  },
];

/**
 * A plugin manifest named `name` that registers `descriptors` and nothing else: the benchmarks' own
 * datasets and instrumented strategies, handed to a run as an extra plugin. Called when a bench
 * assembles its run; binds the descriptors only.
 */
export function componentPlugin(name: string, ...descriptors: ComponentDescriptor[]): PluginManifest {
  return {
    name,
    apiVersion: 1,
    module: new ContainerModule(({ bind }) => {
      for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
    }),
  };
}

/** Plugin used only by `npm run bench`. */
export const benchPlugin: PluginManifest = componentPlugin('engram-bench', ...descriptors);
