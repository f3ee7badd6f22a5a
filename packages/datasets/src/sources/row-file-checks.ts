import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ComponentCheckContext, PipelineProblem } from '@engram/core';
import { firstLine, pathProblem } from './data-checks.js';

/** The options of a csv source that `checkCsv` looks at. */
export interface CsvCheckOptions {
  readonly path: string;
  readonly header: boolean;
  readonly delimiter: string;
  readonly labelColumn?: string | number | undefined;
  readonly featureColumns?: readonly (string | number)[] | undefined;
  readonly targetColumns?: readonly (string | number)[] | undefined;
  readonly groupColumn?: string | number | undefined;
}

/**
 * `engram validate`'s check of a `csv` source: the file exists, and every column named by
 * `labelColumn`/`featureColumns`/`targetColumns` is in its header (or, by position, within its first line's fields).
 * Reads the first line only.
 */
export async function checkCsv(o: CsvCheckOptions, context: ComponentCheckContext): Promise<PipelineProblem[]> {
  const file = resolve(context.baseDir, o.path);
  const missing = await pathProblem(file, 'file');
  if (missing !== undefined) return [{ path: `${context.path}/path`, message: missing }];
  const line = await firstLine(file);
  if (line === undefined) return [{ path: `${context.path}/path`, message: `${o.path} is empty` }];
  let fields: string[];
  try {
    fields = (parse(line, { delimiter: o.delimiter, relax_quotes: true })[0] ?? []).map((f) => f.trim());
  } catch {
    return []; // A malformed first line is the run's bad-row policy's business, not a missing column.
  }
  const problems: PipelineProblem[] = [];
  const check = (column: string | number, at: string): void => {
    if (typeof column === 'number') {
      if (column >= fields.length)
        problems.push({ path: at, message: `column ${column} is past the ${fields.length} columns of ${o.path}` });
    } else if (!o.header) {
      problems.push({ path: at, message: `column "${column}" is named, but header is false (use a position)` });
    } else if (!fields.includes(column)) {
      problems.push({ path: at, message: `${o.path} has no column "${column}" (its header: ${fields.join(', ')})` });
    }
  };
  if (o.labelColumn !== undefined) check(o.labelColumn, `${context.path}/labelColumn`);
  o.featureColumns?.forEach((c, i) => check(c, `${context.path}/featureColumns/${i}`));
  o.targetColumns?.forEach((c, i) => check(c, `${context.path}/targetColumns/${i}`));
  if (o.groupColumn !== undefined) check(o.groupColumn, `${context.path}/groupColumn`);
  return problems;
}

/** The options of a jsonl source that `checkJsonl` looks at. */
export interface JsonlCheckOptions {
  readonly path: string;
  readonly featuresField: string;
  readonly labelField: string;
  readonly taskField?: string | undefined;
  readonly targetField?: string | undefined;
  readonly groupField?: string | undefined;
}

/**
 * `engram validate`'s check of a `jsonl` source: the file exists, and its first record (when it is a
 * JSON object) has the features, label (or target) and task fields. Reads the first line only.
 */
export async function checkJsonl(o: JsonlCheckOptions, context: ComponentCheckContext): Promise<PipelineProblem[]> {
  const file = resolve(context.baseDir, o.path);
  const missing = await pathProblem(file, 'file');
  if (missing !== undefined) return [{ path: `${context.path}/path`, message: missing }];
  const line = await firstLine(file);
  if (line === undefined) return [{ path: `${context.path}/path`, message: `${o.path} is empty` }];
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return [];
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return [];
  const fields: [string, string | undefined][] = [
    ['featuresField', o.featuresField],
    o.targetField !== undefined ? ['targetField', o.targetField] : ['labelField', o.labelField],
    ['taskField', o.taskField],
    ['groupField', o.groupField],
  ];
  return fields.flatMap(([key, name]) =>
    name === undefined || name in record
      ? []
      : [{ path: `${context.path}/${key}`, message: `the first record of ${o.path} has no field "${name}"` }],
  );
}
