/** A parsed row: features and class, or why it was rejected. */
export type ParsedRow =
  { readonly x: Float32Array; readonly y: number; readonly task?: number } | { readonly error: string };

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
  readonly label: number;
  readonly features: readonly number[];
}

/** Resolves label and feature columns (names need a header; integers are 0-based positions). */
export function csvLayout(
  header: readonly string[] | undefined,
  columns: number,
  labelColumn: string | number | undefined,
  featureColumns: readonly (string | number)[] | undefined,
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
  const label = labelColumn === undefined ? columns - 1 : find(labelColumn, 'label');
  const features = featureColumns
    ? featureColumns.map((c) => find(c, 'feature'))
    : Array.from({ length: columns }, (_, i) => i).filter((i) => i !== label);
  if (features.length === 0) throw new Error('no feature columns');
  if (features.includes(label)) throw new Error('the label column cannot also be a feature column');
  return { columns, label, features };
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
  const y = classOf(cells[layout.label], spec);
  return typeof y === 'string' ? { error: y } : { x, y };
}

/** Field names of a JSON record. */
export interface JsonFields {
  readonly features: string;
  readonly label: string;
  readonly task?: string | undefined;
}

/** Validates one parsed JSON record `{ "<features>": number[], "<label>": class, "<task>"?: int }`. */
export function parseJsonRecord(
  value: unknown,
  fields: JsonFields,
  length: number | undefined,
  spec: LabelSpec,
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
  if (!(fields.label in rec)) return { error: `field "${fields.label}" is missing` };
  const y = classOf(rec[fields.label], spec);
  if (typeof y === 'string') return { error: y };
  if (fields.task !== undefined) {
    const t = rec[fields.task];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
      return { error: `field "${fields.task}" is not a task index` };
    return { x, y, task: t };
  }
  return { x, y };
}

/** Parses one JSONL line. */
export function parseJsonLine(
  text: string,
  fields: JsonFields,
  length: number | undefined,
  spec: LabelSpec,
): ParsedRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `invalid JSON (${(err as Error).message})` };
  }
  return parseJsonRecord(value, fields, length, spec);
}
