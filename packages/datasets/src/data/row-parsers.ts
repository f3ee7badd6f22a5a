/** A parsed row: features and class (or regression targets `t`, then `y` is 0), or why it was rejected. */
export type ParsedRow =
  | {
      readonly x: Float32Array;
      readonly y: number;
      readonly task?: number;
      readonly t?: Float32Array;
      /** The row's domain (the value of the group column/field), when the source names one. */
      readonly group?: string;
    }
  | { readonly error: string };

/** How labels are read: a list of names (label = position), or integer class indices below `numClasses`. */
export interface LabelSpec {
  readonly labels?: readonly string[] | undefined;
  readonly numClasses?: number | undefined;
}

/** Maps a raw label value to a class index, or returns an error string. */
export function classOf(value: unknown, spec: LabelSpec): number | string {
  if (spec.labels) {
    const i = spec.labels.indexOf(String(value).trim());
    return i >= 0 ? i : `unknown label ${JSON.stringify(value)} (known: ${spec.labels.join(', ')})`;
  }
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0) return `label ${JSON.stringify(value)} is not a class index`;
  if (spec.numClasses !== undefined && n >= spec.numClasses)
    return `unknown label ${n} (numClasses is ${spec.numClasses})`;
  return n;
}

/** Column layout of a CSV file, resolved from the header (or positions). */
export interface CsvLayout {
  readonly columns: number;
  /** The label column (-1 when the file has regression `targets` instead). */
  readonly label: number;
  readonly features: readonly number[];
  /** Regression target columns, in order (absent for a classification file). */
  readonly targets?: readonly number[];
  /** Column names from the header (for error messages). */
  readonly names?: readonly string[];
  /** The group (domain) column, when the source names one. */
  readonly group?: number;
}

/** Resolves label (or target), feature and group columns (names need a header; integers are 0-based positions). */
export function csvLayout(
  header: readonly string[] | undefined,
  columns: number,
  labelColumn: string | number | undefined,
  featureColumns: readonly (string | number)[] | undefined,
  targetColumns?: readonly (string | number)[],
  groupColumn?: string | number,
): CsvLayout {
  const find = (c: string | number, what: string): number => {
    if (typeof c === 'number') {
      if (c >= columns) throw new Error(`${what} column ${c} does not exist (the file has ${columns} columns)`);
      return c;
    }
    if (!header)
      throw new Error(`${what} column "${c}" is a name, but the file has no header (use a 0-based position)`);
    const i = header.indexOf(c);
    if (i < 0) throw new Error(`${what} column "${c}" is not in the header (${header.join(', ')})`);
    return i;
  };
  const extra = {
    ...(header ? { names: header } : {}),
    ...(groupColumn !== undefined ? { group: find(groupColumn, 'group') } : {}),
  };
  const targets = targetColumns?.map((c) => find(c, 'target'));
  const label = targets ? -1 : labelColumn === undefined ? columns - 1 : find(labelColumn, 'label');
  const outputs = targets ?? [label];
  const features = featureColumns
    ? featureColumns.map((c) => find(c, 'feature'))
    : Array.from({ length: columns }, (_, i) => i).filter((i) => !outputs.includes(i) && i !== extra.group);
  if (features.length === 0) throw new Error('no feature columns');
  if (features.some((f) => outputs.includes(f)))
    throw new Error(`the ${targets ? 'target' : 'label'} column cannot also be a feature column`);
  if (extra.group !== undefined && (features.includes(extra.group) || outputs.includes(extra.group)))
    throw new Error('the group column cannot also be a feature, label or target column');
  return { columns, label, features, ...(targets ? { targets } : {}), ...extra };
}

/** `column 3 ("price")`: a CSV column by its 1-based position and, with a header, its name. */
function columnName(layout: CsvLayout, col: number): string {
  const name = layout.names?.[col];
  return name !== undefined ? `column ${col + 1} ("${name}")` : `column ${col + 1}`;
}

/** The regression targets of one CSV record, or why they cannot be read (naming the column). */
function csvTargets(cells: readonly string[], layout: CsvLayout, targets: readonly number[]): Float32Array | string {
  const t = new Float32Array(targets.length);
  for (let k = 0; k < targets.length; k++) {
    const col = targets[k] as number;
    const cell = (cells[col] as string).trim();
    const v = cell === '' ? Number.NaN : Number(cell);
    t[k] = v;
    if (!Number.isFinite(t[k]))
      return `target ${columnName(layout, col)} is not a finite number: ${JSON.stringify(cells[col])}`;
  }
  return t;
}

/** Turns the fields of one CSV record (as parsed by csv-parse) into a sample, or says why it cannot. */
export function parseCsvCells(cells: readonly string[], layout: CsvLayout, spec: LabelSpec): ParsedRow {
  if (cells.length !== layout.columns) return { error: `expected ${layout.columns} columns, got ${cells.length}` };
  const x = new Float32Array(layout.features.length);
  for (let k = 0; k < layout.features.length; k++) {
    const col = layout.features[k] as number;
    const cell = (cells[col] as string).trim();
    const v = cell === '' ? Number.NaN : Number(cell);
    if (!Number.isFinite(v)) return { error: `column ${col + 1} is not a number: ${JSON.stringify(cells[col])}` };
    x[k] = v;
    if (!Number.isFinite(x[k])) return { error: `column ${col + 1} (${v}) overflows float32` };
  }
  const group = layout.group !== undefined ? { group: (cells[layout.group] as string).trim() } : {};
  if (layout.targets) {
    const t = csvTargets(cells, layout, layout.targets);
    return typeof t === 'string' ? { error: t } : { x, y: 0, t, ...group };
  }
  const y = classOf(cells[layout.label], spec);
  return typeof y === 'string' ? { error: y } : { x, y, ...group };
}

/** Field names of a JSON record. */
export interface JsonFields {
  readonly features: string;
  readonly label: string;
  readonly task?: string | undefined;
  /** Field of the regression target (a number, or an array of numbers for several targets). */
  readonly target?: string | undefined;
  /** Field naming the record's group (domain): a string or a number. */
  readonly group?: string | undefined;
}

/** The regression targets of a JSON record's `field` (a number or an array of numbers), or why not. */
function jsonTargets(raw: unknown, field: string, count: number | undefined): Float32Array | string {
  if (raw === undefined) return `field "${field}" is missing`;
  const values: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0 || (count !== undefined && values.length !== count))
    return `field "${field}" has ${values.length} targets, expected ${count ?? 'at least 1'}`;
  const t = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    const at = Array.isArray(raw) ? `"${field}"[${i}]` : `"${field}"`;
    if (typeof v !== 'number') return `target field ${at} is not a finite number: ${JSON.stringify(v) ?? 'undefined'}`;
    t[i] = v;
    if (!Number.isFinite(t[i])) return `target field ${at} (${v}) is not a finite float32`;
  }
  return t;
}

/** Validates one parsed JSON record `{ "<features>": number[], "<label>": class, "<task>"?: int }`. */
export function parseJsonRecord(
  value: unknown,
  fields: JsonFields,
  length: number | undefined,
  spec: LabelSpec,
  targetCount?: number,
): ParsedRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'record is not a JSON object' };
  const rec = value as Record<string, unknown>;
  const raw: unknown = rec[fields.features];
  if (!Array.isArray(raw)) return { error: `field "${fields.features}" is missing or not an array` };
  if (length !== undefined && raw.length !== length)
    return { error: `field "${fields.features}" has ${raw.length} values, expected ${length}` };
  const x = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v: unknown = raw[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      return { error: `field "${fields.features}"[${i}] is not a finite number` };
    x[i] = v;
    if (!Number.isFinite(x[i])) return { error: `field "${fields.features}"[${i}] (${v}) overflows float32` };
  }
  let y = 0;
  let t: Float32Array | undefined;
  if (fields.target !== undefined) {
    const targets = jsonTargets(rec[fields.target], fields.target, targetCount);
    if (typeof targets === 'string') return { error: targets };
    t = targets;
  } else {
    if (!(fields.label in rec)) return { error: `field "${fields.label}" is missing` };
    const c = classOf(rec[fields.label], spec);
    if (typeof c === 'string') return { error: c };
    y = c;
  }
  const values: { t?: Float32Array; group?: string } = t ? { t } : {};
  if (fields.group !== undefined) {
    const g = rec[fields.group];
    if (typeof g !== 'string' && typeof g !== 'number') return { error: `field "${fields.group}" is not a group name` };
    values.group = String(g);
  }
  if (fields.task !== undefined) {
    const task = rec[fields.task];
    if (typeof task !== 'number' || !Number.isInteger(task) || task < 0)
      return { error: `field "${fields.task}" is not a task index` };
    return { x, y, task, ...values };
  }
  return { x, y, ...values };
}

/** Parses one JSONL line. */
export function parseJsonLine(
  text: string,
  fields: JsonFields,
  length: number | undefined,
  spec: LabelSpec,
  targetCount?: number,
): ParsedRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `invalid JSON (${(err as Error).message})` };
  }
  return parseJsonRecord(value, fields, length, spec, targetCount);
}
