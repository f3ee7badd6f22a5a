import { resolve } from 'node:path';
import {
  PipelineError,
  StringEnum,
  Type,
  type PipelineProblem,
  type ComponentDescriptor,
  type ComponentServices,
  type DataSource,
  type Static,
} from '@engram/core';
import { fileScenarioOption, type ScenarioOptions, type SequentialOptions } from '../scenarios/scenario.schema.js';
import { HeldEvents } from '../data/held-events.js';
import { FiniteDataSource } from './finite-data-source.js';
import { CsvFormat, JsonlFormat, type RowFormat } from './row-format.js';
import { loadRows, type RowFileSettings } from './row-file.js';
import { RowFileStreamSource } from './row-file-stream.js';
import { isInside, RedactedFormat } from './redacted-format.js';
import { checkCsv, checkJsonl } from './row-file-checks.js';

const common = {
  path: Type.String({
    minLength: 1,
    description: 'The file (relative to the pipeline file); `.gz` is decompressed on the fly.',
  }),
  labels: Type.Optional(
    Type.Array(Type.String(), {
      minItems: 1,
      uniqueItems: true,
      description: "Label names; a row's label must be one of them (class = position).",
    }),
  ),
  numClasses: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'Labels are integers below this (default: largest label + 1; required for "sequential" unless labels are given).',
    }),
  ),
  badRows: StringEnum(['skip', 'fail'] as const, {
    default: 'skip',
    description:
      'Skip bad rows (counted, reported with line numbers, written to the dead-letter file) or stop the run.',
  }),
  deadLetter: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Where skipped rows go (JSONL). Default: <path>.rejected.jsonl, created only if a row is rejected.',
    }),
  ),
  scenario: fileScenarioOption(),
  testFraction: Type.Number({
    exclusiveMinimum: 0,
    exclusiveMaximum: 1,
    default: 0.2,
    description: 'In-memory scenarios: share of each class held out for testing.',
  }),
};

/** Options of the `csv` source. */
export const CsvOptions = Type.Object(
  {
    ...common,
    header: Type.Boolean({ default: true, description: 'The first line names the columns.' }),
    delimiter: Type.String({ minLength: 1, default: ',', description: 'Field separator.' }),
    labelColumn: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], {
        description: 'Label column: header name or 0-based position (default: the last column).',
      }),
    ),
    featureColumns: Type.Optional(
      Type.Array(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })]), {
        minItems: 1,
        description: 'Feature columns (default: every column but the label, or but the target columns).',
      }),
    ),
    targetColumns: Type.Optional(
      Type.Array(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })]), {
        minItems: 1,
        uniqueItems: true,
        description:
          'Regression target columns (header names or 0-based positions), one per model output: the file then ' +
          'feeds task "regression" (no label column); a row whose target is not a finite number is a bad row.',
      }),
    ),
    groupColumn: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], {
        description:
          "A column naming each row's group (domain: site, year, sensor), not a feature: with scenario " +
          'data-incremental order "group", each value is one experience, in order of first appearance.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CsvOptions = Static<typeof CsvOptions>;

/** Options of the `jsonl` source. */
export const JsonlOptions = Type.Object(
  {
    ...common,
    featuresField: Type.String({ minLength: 1, default: 'x', description: 'Field holding the feature array.' }),
    labelField: Type.String({ minLength: 1, default: 'y', description: 'Field holding the label.' }),
    targetField: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Field holding the regression target (a number, or an array of numbers for several outputs): the file then ' +
          'feeds task "regression" and labelField is not read; a record whose target is not finite is a bad row.',
      }),
    ),
    taskField: Type.Optional(
      Type.String({ minLength: 1, description: 'Field holding a task index (batches then carry task labels).' }),
    ),
    features: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Expected feature count (default: that of the first valid record).' }),
    ),
    groupField: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Field naming each record's group (domain; a string or number): with scenario data-incremental order " +
          '"group", each value is one experience, in order of first appearance.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type JsonlOptions = Static<typeof JsonlOptions>;

type FileOptions = Static<ReturnType<typeof Type.Object<typeof common>>> & {
  scenario: ScenarioOptions | SequentialOptions;
};

/**
 * Problems of a file source's options the schema cannot see: regression targets cannot be cut by class,
 * nor be read beside a label column. (Streamed `sequential`, they train test-then-train, scored by
 * prequential MAE/RMSE.)
 */
export function targetProblems(
  o: { scenario: { type: string }; labelColumn?: unknown },
  targets: 'targetColumns' | 'targetField' | undefined,
  path: string,
): PipelineProblem[] {
  if (targets === undefined) return [];
  if (o.labelColumn !== undefined)
    return [
      { path: `${path}/labelColumn`, message: 'give labelColumn (classes) or targetColumns (regression), not both' },
    ];
  if (['class-incremental', 'task-incremental', 'online'].includes(o.scenario.type))
    return [
      {
        path: `${path}/scenario`,
        message: `scenario "${o.scenario.type}" cuts the data by class, but ${targets} makes a regression source: use "data-incremental" (shuffled or order "file") or "domain-incremental"`,
      },
    ];
  return [];
}

function createFileSource(
  o: FileOptions,
  services: ComponentServices,
  parseWith: () => RowFormat,
  targets: 'targetColumns' | 'targetField' | undefined,
): DataSource {
  const problem = targetProblems(o, targets, services.path)[0];
  if (problem) throw PipelineError.at(problem.path, problem.message);
  const file = resolve(services.baseDir, o.path);
  // A file outside the pipeline's folder: its content is never quoted in errors, and no dead-letter
  // file is written beside it unless one is named.
  const outside = !isInside(resolve(services.baseDir), file);
  const makeFormat = outside ? (): RowFormat => new RedactedFormat(parseWith()) : parseWith;
  const deadLetter =
    o.deadLetter !== undefined
      ? resolve(services.baseDir, o.deadLetter)
      : outside
        ? undefined
        : `${file}.rejected.jsonl`;
  if (o.scenario.type === 'sequential')
    return new RowFileStreamSource({ file, policy: o.badRows, deadLetter, events: services.events }, makeFormat);
  // Loaded while the run is described, before its events are observed: the skipped-rows warning waits.
  const events = new HeldEvents(services.events);
  const settings: RowFileSettings = { file, policy: o.badRows, deadLetter, events };
  return new FiniteDataSource(
    () => loadRows(settings, makeFormat()),
    o.scenario,
    o.testFraction,
    services.rng,
    () => events.release(),
  );
}

/** The `csv` dataset component. */
export const csvDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'csv',
  description:
    'A CSV file (a label column, or target columns for task "regression"): streamed in file order ("sequential", never loaded whole) or loaded and cut by a scenario.',
  options: CsvOptions,
  create: (options, services) => {
    const o = options as CsvOptions;
    return createFileSource(o, services, () => new CsvFormat(o), o.targetColumns ? 'targetColumns' : undefined);
  },
  check: async (options, context) => {
    const o = options as CsvOptions;
    const targets = targetProblems(o, o.targetColumns ? 'targetColumns' : undefined, context.path);
    return targets.length > 0 ? targets : checkCsv(o, context);
  },
};

/** The `jsonl` dataset component. */
export const jsonlDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'jsonl',
  description:
    'A JSON-lines file of {x: number[], y: label} records (or a numeric target field for task "regression"): streamed in order or loaded and cut by a scenario.',
  options: JsonlOptions,
  create: (options, services) => {
    const o = options as JsonlOptions;
    return createFileSource(
      o,
      services,
      () => new JsonlFormat(o),
      o.targetField !== undefined ? 'targetField' : undefined,
    );
  },
  check: async (options, context) => {
    const o = options as JsonlOptions;
    const targets = targetProblems(o, o.targetField !== undefined ? 'targetField' : undefined, context.path);
    return targets.length > 0 ? targets : checkJsonl(o, context);
  },
};
