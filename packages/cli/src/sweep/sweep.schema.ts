import { StringEnum, Type, type Static } from '@engram/core';

/** How one random-search dimension is drawn: one of `values`, or a number between `min` and `max`. */
const RandomDimension = Type.Object(
  {
    values: Type.Optional(Type.Array(Type.Unknown(), { minItems: 1, description: 'Pick one of these uniformly.' })),
    min: Type.Optional(Type.Number({ description: 'Lowest value of a uniform draw (with "max").' })),
    max: Type.Optional(Type.Number({ description: 'Highest value of a uniform draw (with "min").' })),
    log: Type.Optional(Type.Boolean({ description: 'Uniform in log space (min > 0).' })),
    integer: Type.Optional(Type.Boolean({ description: 'Round to an integer.' })),
  },
  {
    additionalProperties: false,
    description: 'One random dimension: { "values": [...] } or { "min", "max", "log"?, "integer"? }.',
  },
);

/** The metrics a sweep can rank by (summary.json figures). */
export const SWEEP_METRICS = ['ACC', 'BWT', 'FWT', 'forgetting', 'learningAccuracy', 'prequentialAccuracy'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

/** How many combinations a sweep may have unless it says otherwise (`maxCombinations`). */
export const DEFAULT_MAX_COMBINATIONS = 10_000;

/** A `sweep.json` document. */
export const SweepSchema = Type.Object(
  {
    $schema: Type.Optional(
      Type.String({ description: 'The JSON Schema of this file, for editors: "../../schemas/sweep.schema.json".' }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Name of the sweep (default: the file name).' })),
    pipeline: Type.String({ minLength: 1, description: 'The base pipeline file, relative to this file.' }),
    grid: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.Unknown(), { minItems: 1 }), {
        description:
          'Every combination of these values: { "<JSON pointer into the pipeline>": [v1, v2, …] }. Runs that differ only in "/seed" are grouped: the results show mean ± sd over seeds.',
      }),
    ),
    random: Type.Optional(
      Type.Object(
        {
          samples: Type.Integer({
            minimum: 1,
            maximum: 10000,
            description: 'How many random draws (each combined with every grid point).',
          }),
          seed: Type.Integer({ default: 0, description: 'Seed of the draws.' }),
          space: Type.Record(Type.String(), RandomDimension, {
            description: '{ "<pointer>": { "values": [...] } | { "min", "max", "log"?, "integer"? } }',
          }),
        },
        { additionalProperties: false, description: 'Random search: draws combined with every grid point.' },
      ),
    ),
    maxCombinations: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_MAX_COMBINATIONS,
        description:
          'Largest number of combinations (grid sizes × random samples) the sweep may have; checked before anything is expanded.',
      }),
    ),
    metric: StringEnum(SWEEP_METRICS, { default: 'ACC', description: 'Figure the combinations are ranked by.' }),
    goal: Type.Optional(
      StringEnum(['max', 'min'] as const, {
        description: 'Rank by the highest or lowest value (default: min for forgetting, else max).',
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'Engram sweep',
    description: 'A hyper-parameter sweep over an Engram pipeline (`engram sweep FILE --out DIR`).',
  },
);
export type SweepDocument = Static<typeof SweepSchema>;

/**
 * The sweep document's JSON Schema as text (draft 2020-12), what `engram schema --sweep` prints and
 * `schemas/sweep.schema.json` holds; sweep files point editors at it with `"$schema"`.
 */
export function sweepSchemaText(): string {
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...SweepSchema }, null, 2)}\n`;
}
