import type { JsonValue, SerializedState, StateArray } from '../training/serialized-state.js';

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

/**
 * Encodes named states as JSON + raw bytes. Floats are stored bit-exactly; nothing in the output is
 * executable.
 */
export function encodeStates(states: Readonly<Record<string, SerializedState>>): EncodedStates {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const doc: Record<string, { meta: JsonValue; arrays: Record<string, ArrayRef> }> = {};
  for (const [name, s] of Object.entries(states)) {
    const arrays: Record<string, ArrayRef> = {};
    for (const [key, a] of Object.entries(s.arrays ?? {})) {
      const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength).slice();
      parts.push(bytes);
      arrays[key] = { dtype: a.dtype, shape: [...a.shape], offset, length: a.data.length };
      offset += bytes.byteLength;
    }
    doc[name] = { meta: s.meta ?? null, arrays };
  }
  const bin = new Uint8Array(offset);
  let o = 0;
  for (const p of parts) {
    bin.set(p, o);
    o += p.byteLength;
  }
  return { json: JSON.stringify(doc), bin };
}

/** Decodes {@link encodeStates} output; validates every reference against the blob. */
export function decodeStates(json: string, bin: Uint8Array): Record<string, SerializedState> {
  const doc = JSON.parse(json) as Record<string, { meta: JsonValue; arrays: Record<string, ArrayRef> }>;
  const out: Record<string, SerializedState> = {};
  for (const [name, entry] of Object.entries(doc)) {
    const arrays: Record<string, StateArray> = {};
    for (const [key, ref] of Object.entries(entry.arrays)) {
      const byteLength = ref.length * 4;
      if (!(ref.offset >= 0) || ref.offset + byteLength > bin.byteLength || (ref.dtype !== 'float32' && ref.dtype !== 'int32')) {
        throw new Error(`state ${name}.${key} points outside the data file`);
      }
      const copy = bin.slice(ref.offset, ref.offset + byteLength);
      const data = ref.dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
      arrays[key] = { dtype: ref.dtype, shape: ref.shape, data };
    }
    out[name] = entry.meta === null && Object.keys(arrays).length === 0 ? {} : { ...(entry.meta !== null ? { meta: entry.meta } : {}), arrays };
  }
  return out;
}
