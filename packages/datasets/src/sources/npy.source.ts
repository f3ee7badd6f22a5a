import { resolve } from 'node:path';
import { Type, type ComponentDescriptor, type PipelineProblem, type Static } from '@engram/core';
import type { IdxArray } from '../data/idx-reader.js';
import type { LabelledData, LabelledSet } from '../data/labelled-set.js';
import { readNpy, readNpz, type NpyArray } from '../data/npy-reader.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { checkFiles } from './data-checks.js';
import { FiniteDataSource } from './finite-data-source.js';
import { idxToSet } from './idx.source.js';

const file = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

/** Options of the `npy` source. */
export const NpyOptions = Type.Object(
  {
    x: file(
      '`.npy` file of training samples (first axis = sample; [n, h, w] images get a channel axis), relative to the pipeline file. With y.',
    ),
    y: file('`.npy` file of training labels: 1-D, integer class indices.'),
    testX: file('`.npy` file of test samples; without it, testFraction is held out.'),
    testY: file('`.npy` file of test labels (with testX).'),
    npz: file('One `.npz` archive (np.savez or np.savez_compressed) holding the arrays named by `arrays`.'),
    arrays: Type.Object(
      {
        x: Type.String({ minLength: 1, default: 'x', description: 'Name of the training samples in the .npz.' }),
        y: Type.String({ minLength: 1, default: 'y', description: 'Name of the training labels in the .npz.' }),
        testX: Type.Optional(Type.String({ minLength: 1, description: 'Name of the test samples in the .npz.' })),
        testY: Type.Optional(Type.String({ minLength: 1, description: 'Name of the test labels in the .npz.' })),
      },
      { additionalProperties: false, default: {}, description: 'Array names inside `npz`.' },
    ),
    numClasses: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: largest label + 1.' })),
    classNames: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'Names of the classes, by label (for reports).' }),
    ),
    scale: Type.Optional(
      Type.Number({ description: 'Multiply every feature by this (default: 1/255 for uint8 samples, else 1).' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Use only the first N training (and N test) samples.' }),
    ),
    scenario: scenarioOption({ type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Without a test set: share of each class held out for testing.',
    }),
  },
  { additionalProperties: false },
);
export type NpyOptions = Static<typeof NpyOptions>;

/** Where the arrays of an `npy` source come from: problems with the options, at their pointer. */
function layoutProblems(o: NpyOptions, path: string): PipelineProblem[] {
  const files = o.x !== undefined || o.y !== undefined || o.testX !== undefined || o.testY !== undefined;
  if (o.npz !== undefined && files)
    return [{ path: `${path}/npz`, message: 'give either npz or x/y .npy files, not both' }];
  if (o.npz === undefined) {
    if (o.x === undefined || o.y === undefined)
      return [{ path: o.x === undefined ? `${path}/x` : `${path}/y`, message: 'give x and y (.npy files), or npz' }];
    if ((o.testX === undefined) !== (o.testY === undefined))
      return [
        { path: `${path}/${o.testX === undefined ? 'testX' : 'testY'}`, message: 'give testX and testY together' },
      ];
  } else if ((o.arrays.testX === undefined) !== (o.arrays.testY === undefined)) {
    return [{ path: `${path}/arrays`, message: 'give arrays.testX and arrays.testY together' }];
  }
  return [];
}

function asIdx(a: NpyArray): IdxArray {
  return { dims: a.shape, data: Float32Array.from(a.data), type: a.dtype === 'uint8' ? 'ubyte' : a.dtype };
}

/** Loads the arrays of an `npy` source into labelled sets. Called once, on the run's first `describe()`. */
export async function loadNpy(o: NpyOptions, baseDir: string): Promise<LabelledData> {
  const problems = layoutProblems(o, '/data');
  if (problems.length > 0) throw new Error((problems[0] as PipelineProblem).message);
  let pairs: { x: NpyArray; y: NpyArray; what: string }[];
  if (o.npz !== undefined) {
    const arrays = await readNpz(resolve(baseDir, o.npz));
    const pick = (name: string): NpyArray => {
      const a = arrays.get(name);
      if (!a) throw new Error(`${o.npz}: no array named "${name}" (it holds: ${[...arrays.keys()].join(', ')})`);
      return a;
    };
    pairs = [{ x: pick(o.arrays.x), y: pick(o.arrays.y), what: `${o.npz}[${o.arrays.x}]` }];
    if (o.arrays.testX !== undefined && o.arrays.testY !== undefined)
      pairs.push({ x: pick(o.arrays.testX), y: pick(o.arrays.testY), what: `${o.npz}[${o.arrays.testX}]` });
  } else {
    const read = (p: string): Promise<NpyArray> => readNpy(resolve(baseDir, p));
    pairs = [{ x: await read(o.x as string), y: await read(o.y as string), what: o.x as string }];
    if (o.testX !== undefined && o.testY !== undefined)
      pairs.push({ x: await read(o.testX), y: await read(o.testY), what: o.testX });
  }
  const sets: LabelledSet[] = pairs.map((p) => idxToSet(asIdx(p.x), asIdx(p.y), o.scale, o.limit, p.what));
  const [train, test] = sets as [LabelledSet, LabelledSet | undefined];
  let maxLabel = 0;
  for (const set of sets) for (const v of set.y) maxLabel = Math.max(maxLabel, v);
  const numClasses = o.numClasses ?? o.classNames?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) throw new Error(`label ${maxLabel} found but numClasses is ${numClasses}`);
  return { train, ...(test ? { test } : {}), numClasses, ...(o.classNames ? { classNames: o.classNames } : {}) };
}

/** The `npy` dataset component. */
export const npyDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'npy',
  description: 'NumPy arrays: x.npy + y.npy files or one .npz archive (C order), cut by a scenario.',
  options: NpyOptions,
  create: (options, services) => {
    const o = options as NpyOptions;
    return new FiniteDataSource(() => loadNpy(o, services.baseDir), o.scenario, o.testFraction, services.rng);
  },
  check: async (options, context) => {
    const o = options as NpyOptions;
    const layout = layoutProblems(o, context.path);
    if (layout.length > 0) return layout;
    const named = (['npz', 'x', 'y', 'testX', 'testY'] as const).flatMap((k) =>
      o[k] === undefined ? [] : [{ key: k, file: o[k] }],
    );
    const missing = await checkFiles(named, context);
    if (missing.length > 0 || o.npz === undefined) return missing;
    // The archive exists: the arrays it must hold are checked too (reading its directory is cheap).
    try {
      const arrays = await readNpz(resolve(context.baseDir, o.npz));
      return (['x', 'y', 'testX', 'testY'] as const).flatMap((k) => {
        const name = o.arrays[k];
        return name === undefined || arrays.has(name)
          ? []
          : [{ path: `${context.path}/arrays/${k}`, message: `${o.npz} holds no array named "${name}"` }];
      });
    } catch (e) {
      return [{ path: `${context.path}/npz`, message: (e as Error).message }];
    }
  },
};
