import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readZipEntries } from './zip-reader.js';

/** Element types the reader accepts (little-endian or single-byte, C order). */
export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';

/** A NumPy array read from a `.npy` file or a `.npz` entry. `int64` values become doubles (exact below 2^53). */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Uint8Array | Int32Array;
}

const DTYPES: Readonly<Record<string, { dtype: NpyDtype; bytes: number }>> = {
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '<u1': { dtype: 'uint8', bytes: 1 },
  '|i1': { dtype: 'uint8', bytes: 1 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<i8': { dtype: 'int64', bytes: 8 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses the bytes of one `.npy` file (format versions 1–3). `what` names the file in errors. Refuses,
 * with a one-line message, Fortran-ordered arrays, object/structured arrays, big-endian and other
 * element types; never quotes the file's content beyond its dtype string.
 */
export function parseNpy(bytes: Uint8Array, what: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${what}: not a .npy file`);
  const major = bytes[6] as number;
  if (major < 1 || major > 3) throw new Error(`${what}: unsupported .npy format version ${major}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new Error(`${what}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(header)) throw new Error(`${what}: structured arrays are not supported`);
    throw new Error(`${what}: malformed .npy header (no descr)`);
  }
  if (fortran === undefined || shapeText === undefined) throw new Error(`${what}: malformed .npy header`);
  if (descr.includes('O'))
    throw new Error(`${what}: object arrays are not supported (save numbers, not Python objects)`);
  if (fortran === 'True')
    throw new Error(`${what}: Fortran-ordered arrays are not supported (save np.ascontiguousarray(a))`);
  const type = DTYPES[descr];
  if (!type) {
    const hint = descr.startsWith('>') ? ' (big-endian; save with .astype(a.dtype.newbyteorder("<")))' : '';
    throw new Error(
      `${what}: dtype ${descr.slice(0, 8)} is not supported${hint}; use float32, float64, uint8, int32 or int64`,
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${what}: malformed shape in .npy header`);
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * type.bytes;
  if (bytes.length - dataStart < need)
    throw new Error(`${what}: truncated: shape [${shape.join(', ')}] needs ${need} bytes of data`);
  return { dtype: type.dtype, shape, data: decode(bytes, dataStart, count, type.dtype, what) };
}

function decode(bytes: Uint8Array, start: number, count: number, dtype: NpyDtype, what: string): NpyArray['data'] {
  // Copy into a fresh, aligned buffer (the source offset need not be a multiple of the element size).
  const raw = bytes.slice(
    start,
    start + count * (dtype === 'uint8' ? 1 : dtype === 'int32' || dtype === 'float32' ? 4 : 8),
  );
  switch (dtype) {
    case 'uint8':
      return raw;
    case 'float32':
      return new Float32Array(raw.buffer, 0, count);
    case 'int32':
      return new Int32Array(raw.buffer, 0, count);
    case 'float64':
      return new Float64Array(raw.buffer, 0, count);
    case 'int64': {
      const big = new BigInt64Array(raw.buffer, 0, count);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = big[i] as bigint;
        if (v > 9007199254740991n || v < -9007199254740991n)
          throw new Error(`${what}: int64 value at ${i} does not fit a double exactly`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

/** Reads one `.npy` file. */
export async function readNpy(file: string): Promise<NpyArray> {
  return parseNpy(await readBytes(file), basename(file));
}

/** Reads every array of a `.npz` archive (stored or deflated entries), by name without `.npy`. */
export async function readNpz(file: string): Promise<Map<string, NpyArray>> {
  const what = basename(file);
  const entries = readZipEntries(await readBytes(file), what);
  const out = new Map<string, NpyArray>();
  for (const [name, bytes] of entries) {
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -4);
    out.set(key, parseNpy(bytes, `${what}[${key}]`));
  }
  return out;
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? 'error'})`, {
      cause: e,
    });
  }
}
