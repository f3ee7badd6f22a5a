import type { JsonValue, SerializedState, StateArray } from '../plugin-api/serialized-state.js';

/** Where an array lives in the binary blob. */
interface ArrayRef {
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
}

/** Encoded states: JSON (metadata and array references) plus one little-endian binary blob. */
export interface EncodedStates {
  readonly json: string;
  readonly bin: Uint8Array;
}

/** Encoded states whose blob is left as its pieces, in order (written one after another, never joined). */
export interface EncodedStateParts {
  readonly json: string;
  readonly parts: readonly Uint8Array[];
}

/**
 * Encodes named states as JSON + raw bytes. Floats are stored bit-exactly; nothing in the output is
 * executable.
 */
export function encodeStates(states: Readonly<Record<string, SerializedState>>): EncodedStates {
  const { json, parts } = encodeStateParts(states);
  const bin = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    bin.set(p, o);
    o += p.byteLength;
  }
  return { json, bin };
}

/**
 * {@link encodeStates} without the copy into one blob: `parts` are views of the states' own arrays,
 * which the caller must not change until they are written (the checkpoint writer streams them).
 */
export function encodeStateParts(states: Readonly<Record<string, SerializedState>>): EncodedStateParts {
  let offset = 0;
  const parts: Uint8Array[] = [];
  // null-prototype maps: a state or array named `__proto__` is an ordinary key, never the prototype
  const doc = nullMap<{ meta: JsonValue; arrays: Record<string, ArrayRef> }>();
  for (const [name, s] of Object.entries(states)) {
    const arrays = nullMap<ArrayRef>();
    for (const [key, a] of Object.entries(s.arrays ?? {})) {
      const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
      parts.push(bytes);
      arrays[key] = { dtype: a.dtype, shape: [...a.shape], offset, length: a.data.length };
      offset += bytes.byteLength;
    }
    doc[name] = { meta: s.meta ?? null, arrays };
  }
  return { json: JSON.stringify(doc), parts };
}

/** An object without a prototype, so that any key (even `__proto__`) is an own entry. */
function nullMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks one array reference of `state.json` against the blob; returns why it is bad, or undefined. */
function refProblem(ref: unknown, binBytes: number): string | undefined {
  if (!isObject(ref)) return 'is not an array reference';
  const { dtype, shape, offset, length } = ref;
  if (dtype !== 'float32' && dtype !== 'int32') return `has dtype ${JSON.stringify(dtype)}`;
  if (!isCount(offset) || !isCount(length) || offset % 4 !== 0) return 'has a bad offset or length';
  if (!Array.isArray(shape) || !shape.every(isCount) || shape.reduce((a: number, b: number) => a * b, 1) !== length)
    return 'has a shape that does not match its length';
  if (offset + length * 4 > binBytes) return 'points outside the data file';
  return undefined;
}

/**
 * Decodes {@link encodeStates} output; validates the document's shape and every reference against
 * the blob (throws a one-line `Error`). States and arrays come back in null-prototype maps, so no
 * entry name (`__proto__`, `constructor`) can hide another. Arrays are views into `bin` when it is
 * 4-byte aligned (no copy of a 100 MB state): the caller must not reuse `bin` for anything else.
 */
export function decodeStates(json: string, bin: Uint8Array): Record<string, SerializedState> {
  const doc = JSON.parse(json) as unknown;
  if (!isObject(doc)) throw new Error('state.json is not a JSON object');
  const out = nullMap<SerializedState>();
  for (const [name, entry] of Object.entries(doc)) {
    if (!isObject(entry) || !isObject(entry['arrays'])) throw new Error(`state ${name} has no "arrays" object`);
    const arrays = nullMap<StateArray>();
    for (const [key, ref] of Object.entries(entry['arrays'])) {
      const problem = refProblem(ref, bin.byteLength);
      if (problem) throw new Error(`state ${name}.${key} ${problem}`);
      const r = ref as ArrayRef;
      // A view into the blob when it is 4-byte aligned (the usual case: a whole file read), else a copy.
      const start = bin.byteOffset + r.offset;
      const buffer = start % 4 === 0 ? bin.buffer : bin.slice(r.offset, r.offset + r.length * 4).buffer;
      const at = start % 4 === 0 ? start : 0;
      const data =
        r.dtype === 'float32' ? new Float32Array(buffer, at, r.length) : new Int32Array(buffer, at, r.length);
      arrays[key] = { dtype: r.dtype, shape: [...r.shape], data };
    }
    const meta = (entry['meta'] ?? null) as JsonValue;
    out[name] = meta === null && Object.keys(arrays).length === 0 ? {} : { ...(meta !== null ? { meta } : {}), arrays };
  }
  return out;
}
