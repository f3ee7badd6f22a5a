import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** A parsed IDX file: its dimensions and values (as float32, unscaled). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Float32Array;
  /** IDX type name: `ubyte`, `byte`, `short`, `int`, `float`, `double`. */
  readonly type: string;
}

const TYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  0x08: { name: 'ubyte', bytes: 1, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'byte', bytes: 1, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'short', bytes: 2, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: 'int', bytes: 4, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: 'float', bytes: 4, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: 'double', bytes: 8, read: (v, o) => v.getFloat64(o, false) },
};

/** Parses IDX bytes (raw, or gzip-compressed: detected by the gzip magic, not the file name). */
export function parseIdx(input: Uint8Array, what = 'IDX data'): IdxArray {
  let bytes = input;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new Error(`${what}: corrupt gzip data (${(err as Error).message})`, { cause: err });
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new Error(`${what} is not an IDX file (bad magic number)`);
  const type = TYPES[bytes[2] as number];
  if (!type) throw new Error(`${what}: unknown IDX data type 0x${(bytes[2] as number).toString(16)}`);
  const ndims = bytes[3] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw new Error(`${what}: truncated IDX header`);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < header + count * type.bytes) {
    throw new Error(
      `${what}: truncated: header says ${count} values of ${type.bytes} bytes, file has ${bytes.length - header} data bytes`,
    );
  }
  const data = new Float32Array(count);
  if (type.bytes === 1 && type.name === 'ubyte') {
    data.set(bytes.subarray(header, header + count));
  } else {
    for (let i = 0; i < count; i++) {
      data[i] = type.read(view, header + i * type.bytes);
      if (!Number.isFinite(data[i]))
        throw new Error(
          `${what}: value ${i} (${type.read(view, header + i * type.bytes)}) is not a finite float32 number`,
        );
    }
  }
  return { dims, data, type: type.name };
}

/** Reads and parses an IDX file (raw or `.gz`). */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`cannot read IDX file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  return parseIdx(bytes, file);
}

/** Encodes an IDX file (ubyte, or float when `type` is 'float'); used to write fixtures and exports. */
export function encodeIdx(
  dims: readonly number[],
  values: ArrayLike<number>,
  type: 'ubyte' | 'float' = 'ubyte',
): Buffer {
  const code = type === 'ubyte' ? 0x08 : 0x0d;
  const size = type === 'ubyte' ? 1 : 4;
  const buf = Buffer.alloc(4 + 4 * dims.length + values.length * size);
  buf[2] = code;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const o = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++) {
    if (type === 'ubyte') buf[o + i] = values[i] as number;
    else buf.writeFloatBE(values[i] as number, o + 4 * i);
  }
  return buf;
}
