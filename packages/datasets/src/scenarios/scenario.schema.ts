import { StringEnum, Type, discriminated, type Static, type TSchema } from '@engram/core';

const strict = { additionalProperties: false } as const;

/** `only`: the range of experiences a run trains on (every scenario cut into experiences has it). */
const onlyProperty = {
  only: Type.Optional(
    Type.Object(
      {
        first: Type.Integer({ minimum: 0, default: 0, description: 'First experience trained (0-based).' }),
        last: Type.Optional(
          Type.Integer({ minimum: 0, description: 'Last experience trained (inclusive); default: the last one.' }),
        ),
      },
      {
        ...strict,
        description:
          'Train only on experiences first..last of the scenario (numbered as in the whole scenario); the others ' +
          'keep their test sets, evaluated with evaluation.on "all". A later run continues with the next range (`engram run --from`).',
      },
    ),
  ),
};

const classSplitProperties = {
  ...onlyProperty,
  experiences: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'Number of experiences; classes are spread as evenly as possible (earlier experiences get the extra ones).',
    }),
  ),
  classesPerExperience: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Classes per experience (the last one may get fewer). Give this or `experiences`.',
    }),
  ),
  classOrder: Type.Optional(
    Type.Array(Type.Integer({ minimum: 0 }), {
      minItems: 1,
      uniqueItems: true,
      description: 'Explicit class order; classes not listed are left out.',
    }),
  ),
  shuffleClasses: Type.Boolean({
    default: false,
    description: 'Shuffle the class order with the pipeline seed (ignored when classOrder is given).',
  }),
};

/** Class-incremental split: each experience brings new classes; no task labels. */
export const ClassIncrementalSchema = Type.Object(
  { type: Type.Literal('class-incremental'), ...classSplitProperties },
  {
    ...strict,
    title: 'class-incremental',
    description: 'Each experience brings new classes; one shared head, no task labels.',
  },
);

/** Task-incremental split: like class-incremental, and every batch carries its task label. */
export const TaskIncrementalSchema = Type.Object(
  { type: Type.Literal('task-incremental'), ...classSplitProperties },
  {
    ...strict,
    title: 'task-incremental',
    description: 'Class split with task labels (task = experience index) exposed in every batch.',
  },
);

/** Domain-incremental: same classes, a new input distribution per experience. */
export const DomainIncrementalSchema = Type.Object(
  {
    type: Type.Literal('domain-incremental'),
    transform: StringEnum(['permutation', 'rotation'] as const, {
      description: 'Seeded pixel permutation or rotation per experience.',
    }),
    experiences: Type.Integer({ minimum: 1, description: 'Number of domains.' }),
    ...onlyProperty,
    firstIdentity: Type.Boolean({ default: true, description: 'The first experience sees the original inputs.' }),
    angles: Type.Optional(
      Type.Array(Type.Number(), {
        minItems: 1,
        description: 'Rotation angles in degrees, one per experience (default: seeded uniform in ±maxAngle).',
      }),
    ),
    maxAngle: Type.Number({
      minimum: 0,
      maximum: 180,
      default: 180,
      description: 'Bound of the seeded rotation angles, degrees.',
    }),
  },
  {
    ...strict,
    title: 'domain-incremental',
    description: 'All classes in every experience; inputs permuted or rotated per experience (seeded).',
  },
);

/** Data-incremental: IID chunks of the same distribution. */
export const DataIncrementalSchema = Type.Object(
  {
    type: Type.Literal('data-incremental'),
    experiences: Type.Integer({ minimum: 1, description: 'Number of chunks (of nearly equal size).' }),
    order: Type.Optional(
      StringEnum(['shuffled', 'file', 'group'] as const, {
        description:
          'shuffled: seeded IID chunks; file: consecutive chunks in row order (rows 0..n/k first), so a drift over ' +
          "the file's rows becomes a drift over experiences (each chunk tests on its own held-out rows); group: one " +
          'experience per value of the csv groupColumn / jsonl groupField (a domain: site, year, sensor), in order of ' +
          'first appearance, `experiences` = the number of groups. Default: shuffled.',
      }),
    ),
    ...onlyProperty,
  },
  {
    ...strict,
    title: 'data-incremental',
    description: 'The data cut into chunks of (nearly) equal size: seeded IID chunks, or in row order.',
  },
);

/** Task-free online stream over a finite source, read once, with abrupt or gradual class shifts. */
export const OnlineSchema = Type.Object(
  {
    type: Type.Literal('online'),
    segments: Type.Integer({ minimum: 1, description: 'Number of class groups the stream moves through.' }),
    classOrder: classSplitProperties.classOrder,
    shuffleClasses: classSplitProperties.shuffleClasses,
    boundary: StringEnum(['abrupt', 'gradual'] as const, {
      default: 'abrupt',
      description: 'Abrupt: segments follow each other; gradual: neighbouring segments blend.',
    }),
    blur: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Gradual boundaries: overlap of neighbouring segments, as a fraction of a segment.',
    }),
  },
  {
    ...strict,
    title: 'online',
    description:
      'Task-free stream (engine stream mode): one pass in class-segment order, no boundaries given to the learner.',
  },
);

/** Read a file once, in file order, incrementally (never held in memory); csv and jsonl only. */
export const SequentialSchema = Type.Object(
  { type: Type.Literal('sequential') },
  {
    ...strict,
    title: 'sequential',
    description: 'Task-free stream in file order, read incrementally (csv/jsonl only).',
  },
);

export type ClassIncrementalOptions = Static<typeof ClassIncrementalSchema>;
export type TaskIncrementalOptions = Static<typeof TaskIncrementalSchema>;
export type DomainIncrementalOptions = Static<typeof DomainIncrementalSchema>;
export type DataIncrementalOptions = Static<typeof DataIncrementalSchema>;
export type OnlineOptions = Static<typeof OnlineSchema>;
export type SequentialOptions = Static<typeof SequentialSchema>;

/** Any scenario that can be built from an in-memory labelled set. */
export type ScenarioOptions =
  ClassIncrementalOptions | TaskIncrementalOptions | DomainIncrementalOptions | DataIncrementalOptions | OnlineOptions;

/** A discriminated (`type`) union of `branches`, typed as `T`. */
function union<T>(branches: readonly TSchema[], description: string, defaultValue?: unknown): TSchema & { static: T } {
  return Type.Unsafe<T>({
    ...discriminated('type', branches),
    description,
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  });
}

const FINITE = [
  ClassIncrementalSchema,
  TaskIncrementalSchema,
  DomainIncrementalSchema,
  DataIncrementalSchema,
  OnlineSchema,
] as const;

/** The `scenario` option of in-memory sources (mnist, fashion-mnist, idx, synthetic). */
export function scenarioOption(defaultValue?: ScenarioOptions): TSchema & { static: ScenarioOptions } {
  return union<ScenarioOptions>(FINITE, 'How the data is cut into experiences.', defaultValue);
}

/** The `scenario` option of file sources, which may also stream the file in order. */
export function fileScenarioOption(): TSchema & { static: ScenarioOptions | SequentialOptions } {
  return union<ScenarioOptions | SequentialOptions>(
    [...FINITE, SequentialSchema],
    'How the data is cut into experiences; `sequential` streams the file without loading it.',
    { type: 'sequential' },
  );
}
