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
    y: file(
      '`.npy` file of training labels: 1-D integer class indices, or float32/float64 regression targets of shape [n] or [n, k] (task "regression", k outputs).',
    ),
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

/** A float `y` holds regression targets; an integer one holds classes. */
function isTargets(y: NpyArray): boolean {
  return y.dtype === 'float32' || y.dtype === 'float64';
}

/**
 * Pairs samples with float regression targets `[n]` or `[n, k]` into a set whose `targets` hold them
 * (`y` all zeros). A non-finite target is refused with its row and column.
 */
export function npyToRegressionSet(
  x: NpyArray,
  y: NpyArray,
  scale: number | undefined,
  limit: number | undefined,
  what: string,
): LabelledSet {
  if (y.shape.length !== 1 && y.shape.length !== 2)
    throw new Error(`${what}: regression targets must be of shape [n] or [n, k], got [${y.shape.join(', ')}]`);
  const n0 = y.shape[0] ?? 0;
  const k = y.shape[1] ?? 1;
  const set = idxToSet(asIdx(x), { dims: [n0], data: new Float32Array(n0), type: 'float32' }, scale, limit, what);
  const n = set.y.length;
  const targets = new Float32Array(n * k);
  for (let i = 0; i < n * k; i++) {
    const v = y.data[i] as number;
    targets[i] = v;
    if (!Number.isFinite(targets[i]))
      throw new Error(`${what}: the target at row ${Math.floor(i / k)}, column ${i % k} is ${v}, not a finite float32`);
  }
  return { ...set, targets };
}

/** Loads the arrays of an `npy` source into labelled sets. Called once, on the run's first `describe()`. */
export async function loadNpy(o: NpyOptions, baseDir: string): Promise<LabelledData> {
  const problems = layoutProblems(o, '/data');
  if (problems.length > 0) throw new Error((problems[0] as PipelineProblem).message);
  let pairs: { x: NpyArray; y: NpyArray; what: string; yWhat: string }[];
  if (o.npz !== undefined) {
    const arrays = await readNpz(resolve(baseDir, o.npz));
    const pick = (name: string): NpyArray => {
      const a = arrays.get(name);
      if (!a) throw new Error(`${o.npz}: no array named "${name}" (it holds: ${[...arrays.keys()].join(', ')})`);
      return a;
    };
    pairs = [
      { x: pick(o.arrays.x), y: pick(o.arrays.y), what: `${o.npz}[${o.arrays.x}]`, yWhat: `${o.npz}[${o.arrays.y}]` },
    ];
    if (o.arrays.testX !== undefined && o.arrays.testY !== undefined)
      pairs.push({
        x: pick(o.arrays.testX),
        y: pick(o.arrays.testY),
        what: `${o.npz}[${o.arrays.testX}]`,
        yWhat: `${o.npz}[${o.arrays.testY}]`,
      });
  } else {
    const read = (p: string): Promise<NpyArray> => readNpy(resolve(baseDir, p));
    pairs = [{ x: await read(o.x as string), y: await read(o.y as string), what: o.x as string, yWhat: o.y as string }];
    if (o.testX !== undefined && o.testY !== undefined)
      pairs.push({ x: await read(o.testX), y: await read(o.testY), what: o.testX, yWhat: o.testY });
  }
  const regression = isTargets(pairs[0]?.y as NpyArray);
  if (pairs.some((p) => isTargets(p.y) !== regression))
    throw new Error(
      `${pairs[1]?.what}: the test labels are ${regression ? 'integers' : 'floats'}, the training ones are not`,
    );
  if (regression) {
    const sets = pairs.map((p) => npyToRegressionSet(p.x, p.y, o.scale, o.limit, p.yWhat));
    const [train, test] = sets as [LabelledSet, LabelledSet | undefined];
    const k = pairs[0]?.y.shape[1] ?? 1;
    if (test && (pairs[1]?.y.shape[1] ?? 1) !== k)
      throw new Error(`${pairs[1]?.what}: test targets have ${pairs[1]?.y.shape[1] ?? 1} columns, training ones ${k}`);
    return { train, ...(test ? { test } : {}), numClasses: k, regression: true };
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
    if (missing.length > 0) return missing;
    try {
      let y: NpyArray | undefined;
      if (o.npz !== undefined) {
        // The archive exists: the arrays it must hold are checked too (reading its directory is cheap).
        const arrays = await readNpz(resolve(context.baseDir, o.npz));
        const absent = (['x', 'y', 'testX', 'testY'] as const).flatMap((k) => {
          const name = o.arrays[k];
          return name === undefined || arrays.has(name)
            ? []
            : [{ path: `${context.path}/arrays/${k}`, message: `${o.npz} holds no array named "${name}"` }];
        });
        if (absent.length > 0) return absent;
        y = arrays.get(o.arrays.y);
      } else y = await readNpy(resolve(context.baseDir, o.y as string));
      // Float labels are regression targets: a scenario that cuts by class cannot apply.
      if (y && isTargets(y) && ['class-incremental', 'task-incremental', 'online'].includes(o.scenario.type))
        return [
          {
            path: `${context.path}/scenario`,
            message: `y is ${y.dtype} (regression targets), but scenario "${o.scenario.type}" cuts the data by class: use "data-incremental" (shuffled or order "file") or "domain-incremental"`,
          },
        ];
      return [];
    } catch (e) {
      return [{ path: `${context.path}/${o.npz !== undefined ? 'npz' : 'y'}`, message: (e as Error).message }];
    }
  },
};
