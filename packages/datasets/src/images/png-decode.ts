import { inflateSync } from 'node:zlib';
import { crc32 } from './png-encode.js';

/** 8-bit pixels of a PNG, row-major HWC. */
export interface PngPixels {
  readonly width: number;
  readonly height: number;
  /** 1 (grey) or 3 (RGB): the only colour types this reader takes. */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks after which the pixels are not plain 8-bit sRGB values (colour management, transparency). */
const COLOUR_CHUNKS = new Set(['iCCP', 'gAMA', 'cHRM', 'sBIT', 'tRNS']);

/**
 * Reads the common case of a PNG without an image library: 8-bit grey or RGB, not interlaced, no colour
 * profile, gamma or transparency chunk — what torchvision-style folders made by PIL, sharp or NumPy
 * scripts hold. Every chunk's CRC is checked. Returns `undefined` for anything else (other colour types
 * or depths, interlacing, colour chunks, a bad CRC, a truncated or malformed stream), and the caller
 * decodes with libvips instead, which also words the error for a file that is really unreadable. For
 * the files it takes, the pixels are the bytes libvips gives (tested against sharp), at a fraction of
 * its per-call cost on small images.
 */
export function readPlainPng(bytes: Uint8Array): PngPixels | undefined {
  try {
    return parse(bytes);
  } catch {
    return undefined;
  }
}

function parse(bytes: Uint8Array): PngPixels | undefined {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (at + 12 + length > bytes.length) return undefined;
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) return undefined;
    at += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) return undefined;
      const header = new DataView(data.buffer, data.byteOffset, 13);
      width = header.getUint32(0);
      height = header.getUint32(4);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (depth !== 8 || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
      if (colour === 0) channels = 1;
      else if (colour === 2) channels = 3;
      else return undefined;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (COLOUR_CHUNKS.has(type)) return undefined;
  }
  if (!ended || channels === undefined || width === 0 || height === 0 || idat.length === 0) return undefined;
  const stride = width * channels;
  const raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  if (raw.length !== (stride + 1) * height) return undefined;
  return { width, height, channels, data: unfilter(raw, stride, height, channels) };
}

/** Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth) into `height` rows of `stride` bytes. */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array(stride * height);
  for (let r = 0; r < height; r++) {
    const kind = raw[r * (stride + 1)]!;
    const src = r * (stride + 1) + 1;
    const row = r * stride;
    const up = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? out[row + i - bpp]! : 0;
      const b = r > 0 ? out[up + i]! : 0;
      let v: number;
      if (kind === 0) v = x;
      else if (kind === 1) v = x + a;
      else if (kind === 2) v = x + b;
      else if (kind === 3) v = x + ((a + b) >> 1);
      else if (kind === 4) {
        const c = r > 0 && i >= bpp ? out[up + i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      } else throw new Error(`row ${r}: filter type ${kind}`);
      out[row + i] = v & 0xff;
    }
  }
  return out;
}
