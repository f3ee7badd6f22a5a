import { of, type Observable } from 'rxjs';
import {
  ArrayBatchSource,
  ContainerModule,
  Rng,
  TOKENS,
  Type,
  type Batch,
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
  },
  { additionalProperties: false },
);

function randomBatch(rng: Rng, n: number, classes: readonly number[]): Batch {
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const y = Int32Array.from({ length: n }, () => classes[rng.int(classes.length)] as number);
  return { x, y, sampleShape: [28, 28, 1] };
}

/**
 * Two experiences of uniform random 28x28 images (as the PyTorch reference script uses): a short
 * warm-up experience (so EWC has a Fisher for the measured one) and the measured experience.
 */
class RandomImages implements DataSource {
  constructor(
    private readonly options: { warmupSamples: number; samples: number },
    private readonly seed: number,
  ) {}
  async describe(): Promise<StreamInfo> {
    return { inputShape: [28, 28, 1], numClasses: 10, experiences: 2, scenario: 'benchmark' };
  }
  experiences(): Observable<Experience> {
    const rng = new Rng(this.seed);
    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    return of(
      { index: 0, classes: all, train: new ArrayBatchSource(randomBatch(rng, this.options.warmupSamples, all)) },
      { index: 1, classes: all, train: new ArrayBatchSource(randomBatch(rng, this.options.samples, all)) },
    );
  }
}

const descriptors: ComponentDescriptor[] = [
  {
    role: 'dataset',
    kind: 'bench-random',
    description: 'Random images for speed benchmarks.',
    options: RandomOptions,
    create: (o, s) => new RandomImages(o as { warmupSamples: number; samples: number }, s.seed),
  },
  {
    role: 'strategy',
    kind: 'bench-naive',
    description: 'Plain fine-tuning, so the engine benchmark needs no strategy plugin.',
    options: Type.Object({}, { additionalProperties: false }),
    create: () => ({ name: 'naive' }),
  },
];

/** Plugin used only by `npm run bench`. */
export const benchPlugin: PluginManifest = {
  name: 'engram-bench',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};
