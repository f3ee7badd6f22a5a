/** Largest length of one live JSON line (or journal line), in UTF-16 code units: longer lines are bad records. */
export const MAX_LIVE_LINE = 4 * 1024 * 1024;

/** What a live record must look like: its declared sample shape, classes and field names. */
export interface RecordContract {
  /** Shape of one sample; a record carries `prod(inputShape)` features, flat. */
  readonly inputShape: readonly number[];
  /** Labels are integer class indices below this (unless `labels` names them). */
  readonly numClasses: number;
  /** Label names (class = position): labels are then these exact strings. */
  readonly labels?: readonly string[] | undefined;
  /** Field holding the features (default `x`). */
  readonly features?: string;
  /** Field holding the label (default `y`). */
  readonly label?: string;
  /** Field holding a task index, when the feed has tasks. */
  readonly task?: string | undefined;
  /** Field holding the regression target(s) of a regression feed (the label field is then not read). */
  readonly target?: string | undefined;
  /** Targets per record of a regression feed (1: a plain number is accepted too). */
  readonly targetCount?: number | undefined;
}

/** A record that passed {@link checkRecord}: float32 features (all finite), class index (0 for regression), task, targets. */
export interface CheckedRecord {
  readonly x: Float32Array;
  readonly y: number;
  readonly task?: number;
  /** Regression targets (float32, all finite) of a regression feed. */
  readonly t?: Float32Array;
}

const own = (rec: object, key: string): boolean => Object.prototype.hasOwnProperty.call(rec, key);

/**
 * Validates one parsed live record `{x, y}` against the stream's contract, at the door — before it is
 * acknowledged, journalled or queued. Returns the float32 sample, or the reason it is refused:
 * - features: an array of exactly `prod(inputShape)` JSON numbers, each finite **in float32** (`1e39`
 *   overflows float32 to Infinity and would poison training, so it is refused);
 * - label: with `labels`, one of those strings; otherwise a JSON integer (not a string such as `"1"`) in
 *   `[0, numClasses)`;
 * - task (when the contract names a task field): a non-negative safe integer;
 * - targets (a regression feed, the contract names a target field, then no label is read): `targetCount`
 *   JSON numbers (an array, or one bare number), each finite in float32.
 *
 * Pure: no I/O and no events; every live source (http, jsonl-stdin, jsonl-follow, journals, redis) calls it.
 */
export function checkRecord(value: unknown, c: RecordContract): CheckedRecord | string {
  const features = c.features ?? 'x';
  const label = c.label ?? 'y';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'record is not a JSON object';
  const rec = value as Record<string, unknown>;
  const raw = own(rec, features) ? rec[features] : undefined;
  if (!Array.isArray(raw)) return `field "${features}" is missing or not an array`;
  const length = c.inputShape.reduce((a, b) => a * b, 1);
  if (raw.length !== length)
    return `field "${features}" has ${raw.length} values, expected ${length} (inputShape [${c.inputShape.join(', ')}])`;
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v: unknown = raw[i];
    if (typeof v !== 'number') return `field "${features}"[${i}] is not a number`;
    const f = Math.fround(v);
    if (!Number.isFinite(f))
      return `field "${features}"[${i}] is not a finite float32 number${Number.isFinite(v) ? ` (${v} overflows float32)` : ''}`;
    x[i] = f;
  }
  let y = 0;
  let values: { t: Float32Array } | undefined;
  if (c.target !== undefined) {
    const t = targetValues(own(rec, c.target) ? rec[c.target] : undefined, c.target, c.targetCount ?? 1);
    if (typeof t === 'string') return t;
    values = { t };
  } else {
    if (!own(rec, label)) return `field "${label}" is missing`;
    const k = classIndex(rec[label], c);
    if (typeof k === 'string') return k;
    y = k;
  }
  if (c.task === undefined) return { x, y, ...values };
  const t = own(rec, c.task) ? rec[c.task] : undefined;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0)
    return `field "${c.task}" is not a task index (a non-negative integer)`;
  return { x, y, task: t, ...values };
}

/** A regression record's targets: `count` JSON numbers (one may be given bare), each finite in float32. */
function targetValues(raw: unknown, field: string, count: number): Float32Array | string {
  if (raw === undefined) return `field "${field}" is missing`;
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length !== count) return `field "${field}" has ${list.length} targets, expected ${count} (targetCount)`;
  const t = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v: unknown = list[i];
    const at = Array.isArray(raw) ? `"${field}"[${i}]` : `"${field}"`;
    if (typeof v !== 'number') return `target ${at} is not a number: ${short(v)}`;
    t[i] = v;
    if (!Number.isFinite(t[i])) return `target ${at} is not a finite float32 number (${v})`;
  }
  return t;
}

function classIndex(value: unknown, c: RecordContract): number | string {
  if (c.labels) {
    const i = typeof value === 'string' ? c.labels.indexOf(value) : -1;
    if (i >= 0) return i;
    return `unknown label ${short(value)} (known: ${c.labels.slice(0, 20).join(', ')}${c.labels.length > 20 ? ', …' : ''})`;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    return `label ${short(value)} is not a class index (a JSON integer, 0 or more)`;
  if (value >= c.numClasses) return `unknown label ${value} (numClasses is ${c.numClasses})`;
  return value;
}

/** A value for an error message, cut short: a hostile record cannot flood the log. */
function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Parses one JSON line and checks it with {@link checkRecord}; a line over {@link MAX_LIVE_LINE} is refused unparsed. */
export function checkRecordLine(text: string, c: RecordContract): CheckedRecord | string {
  if (text.length > MAX_LIVE_LINE) return `line is ${text.length} characters, over the ${MAX_LIVE_LINE} limit`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `invalid JSON (${(err as Error).message.slice(0, 80)})`;
  }
  return checkRecord(value, c);
}
