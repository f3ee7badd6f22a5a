import { resolve } from 'node:path';
import { Type, type ComponentDescriptor, type Static } from '@engram/core';
import { readIdx, type IdxArray } from '../data/idx-reader.js';
import type { LabelledData, LabelledSet } from '../data/labelled-set.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { checkFiles } from './data-checks.js';
import { FiniteDataSource } from './finite-data-source.js';

const scaleOption = Type.Optional(
  Type.Number({ description: 'Multiply every feature by this (default: 1/255 for ubyte images, else 1).' }),
);

/** Options of the generic `idx` source. */
export const IdxOptions = Type.Object(
  {
    trainImages: Type.String({
      minLength: 1,
      description: 'IDX file of training samples (raw or .gz), relative to the pipeline file.',
    }),
    trainLabels: Type.String({ minLength: 1, description: 'IDX file of training labels (1-D).' }),
    testImages: Type.Optional(
      Type.String({ minLength: 1, description: 'IDX file of test samples; without it, testFraction is held out.' }),
    ),
    testLabels: Type.Optional(Type.String({ minLength: 1, description: 'IDX file of test labels (with testImages).' })),
    numClasses: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: largest label + 1.' })),
    classNames: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'Names of the classes, by label (for reports).' }),
    ),
    scale: scaleOption,
    limit: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Use only the first N training (and N test) samples.' }),
    ),
    scenario: scenarioOption({ type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Without test files: share of each class held out for testing.',
    }),
  },
  { additionalProperties: false },
);
export type IdxOptions = Static<typeof IdxOptions>;

/** Pairs an IDX sample file with its label file into a labelled set. Images `[n, h, w]` get a channel axis. */
export function idxToSet(
  images: IdxArray,
  labels: IdxArray,
  scale: number | undefined,
  limit: number | undefined,
  what: string,
): LabelledSet {
  const n0 = images.dims[0] ?? 0;
  if (labels.dims.length !== 1)
    throw new Error(`${what}: the label file must be 1-D, got dims [${labels.dims.join(', ')}]`);
  if (labels.dims[0] !== n0) throw new Error(`${what}: ${n0} samples but ${labels.dims[0]} labels`);
  const n = Math.min(n0, limit ?? n0);
  const rest = images.dims.slice(1);
  const sampleShape = rest.length === 2 ? [...rest, 1] : rest.length === 0 ? [1] : rest;
  const len = sampleShape.reduce((a, b) => a * b, 1);
  const factor = scale ?? (images.type === 'ubyte' ? 1 / 255 : 1);
  const x = images.data.slice(0, n * len);
  if (factor !== 1) for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * factor;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i] as number;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${what}: label ${i} is ${v}, not a class index`);
    y[i] = v;
  }
  return { x, y, sampleShape };
}

/** Loads train (and optionally test) IDX pairs. */
export async function loadIdxPairs(
  files: { trainImages: string; trainLabels: string; testImages?: string | undefined; testLabels?: string | undefined },
  o: {
    scale?: number | undefined;
    limit?: number | undefined;
    numClasses?: number | undefined;
    classNames?: readonly string[] | undefined;
  },
): Promise<LabelledData> {
  const train = idxToSet(
    await readIdx(files.trainImages),
    await readIdx(files.trainLabels),
    o.scale,
    o.limit,
    files.trainImages,
  );
  let test: LabelledSet | undefined;
  if (files.testImages !== undefined || files.testLabels !== undefined) {
    if (files.testImages === undefined || files.testLabels === undefined)
      throw new Error('give both testImages and testLabels, or neither');
    test = idxToSet(
      await readIdx(files.testImages),
      await readIdx(files.testLabels),
      o.scale,
      o.limit,
      files.testImages,
    );
  }
  let maxLabel = 0;
  for (const set of test ? [train, test] : [train]) for (const v of set.y) maxLabel = Math.max(maxLabel, v);
  const numClasses = o.numClasses ?? o.classNames?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) throw new Error(`label ${maxLabel} found but numClasses is ${numClasses}`);
  return { train, ...(test ? { test } : {}), numClasses, ...(o.classNames ? { classNames: o.classNames } : {}) };
}

/** The `idx` dataset component. */
export const idxDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'idx',
  description: 'Generic IDX sample/label files (raw or gzip), cut by a scenario.',
  options: IdxOptions,
  create: (options, services) => {
    const o = options as IdxOptions;
    const at = (p: string | undefined): string | undefined =>
      p === undefined ? undefined : resolve(services.baseDir, p);
    const files = {
      trainImages: at(o.trainImages) as string,
      trainLabels: at(o.trainLabels) as string,
      testImages: at(o.testImages),
      testLabels: at(o.testLabels),
    };
    return new FiniteDataSource(() => loadIdxPairs(files, o), o.scenario, o.testFraction, services.rng);
  },
  check: (options, context) => {
    const o = options as IdxOptions;
    const named = (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).flatMap((key) => {
      const file = o[key];
      return file === undefined ? [] : [{ key, file }];
    });
    return checkFiles(named, context);
  },
};
