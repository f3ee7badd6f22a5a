import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, type ComponentDescriptor, type Static } from '@engram/core';
import type { LabelledData, LabelledSet } from '../data/labelled-set.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { pathProblem } from './data-checks.js';
import { FiniteDataSource } from './finite-data-source.js';
import { loadIdxPairs } from './idx.source.js';

/** Options of the `fashion-mnist` source. */
export const FashionMnistOptions = Type.Object(
  {
    dir: Type.String({
      minLength: 1,
      default: '/usr/share/datasets/fashion-mnist',
      description: 'Folder of the four *-idx?-ubyte(.gz) files (Debian package dataset-fashion-mnist).',
    }),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only the first N training and N test images.' })),
    flatten: Type.Boolean({ default: false, description: 'Samples of shape [784] instead of [28, 28, 1].' }),
    scenario: scenarioOption({ type: 'class-incremental', experiences: 5, shuffleClasses: false }),
  },
  { additionalProperties: false },
);
export type FashionMnistOptions = Static<typeof FashionMnistOptions>;

/** Fashion-MNIST class names, index = label. */
export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Finds `<base>` or `<base>.gz` in `dir`, or throws the error that names the apt package. */
export function findIdx(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(
    `Fashion-MNIST file ${base}(.gz) not found in ${dir}. Install it with "apt-get install dataset-fashion-mnist" ` +
      `(Debian package dataset-fashion-mnist) or set "dir" to a folder with the four IDX files.`,
  );
}

/** Loads Fashion-MNIST (60k train / 10k test) from `dir`. */
export async function loadFashionMnist(dir: string, limit?: number, flatten = false): Promise<LabelledData> {
  const files = {
    trainImages: findIdx(dir, 'train-images-idx3-ubyte'),
    trainLabels: findIdx(dir, 'train-labels-idx1-ubyte'),
    testImages: findIdx(dir, 't10k-images-idx3-ubyte'),
    testLabels: findIdx(dir, 't10k-labels-idx1-ubyte'),
  };
  const data = await loadIdxPairs(files, { limit, numClasses: 10, classNames: FASHION_CLASSES });
  if (!flatten) return data;
  const flat = (s: LabelledSet): LabelledSet => ({ ...s, sampleShape: [784] });
  return { ...data, train: flat(data.train), ...(data.test ? { test: flat(data.test) } : {}) };
}

/** The `fashion-mnist` dataset component. */
export const fashionMnistDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'fashion-mnist',
  description:
    'Fashion-MNIST from IDX files (default /usr/share/datasets/fashion-mnist), official 60k/10k split, cut by a scenario.',
  options: FashionMnistOptions,
  create: (options, services) => {
    const o = options as FashionMnistOptions;
    const dir = resolve(services.baseDir, o.dir);
    return new FiniteDataSource(() => loadFashionMnist(dir, o.limit, o.flatten), o.scenario, 0, services.rng);
  },
  check: async (options, context) => {
    const dir = resolve(context.baseDir, (options as FashionMnistOptions).dir);
    const missing = await pathProblem(dir, 'folder');
    if (missing !== undefined) return [{ path: `${context.path}/dir`, message: missing }];
    const bases = [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ];
    const absent = bases.filter((b) => !existsSync(join(dir, b)) && !existsSync(join(dir, `${b}.gz`)));
    return absent.length === 0
      ? []
      : [
          {
            path: `${context.path}/dir`,
            message: `${dir} lacks ${absent.map((b) => `${b}(.gz)`).join(', ')} (apt-get install dataset-fashion-mnist)`,
          },
        ];
  },
};
