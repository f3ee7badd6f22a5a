import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

/**
 * Reads every file entry of a zip archive held in memory (what NumPy's `savez` and `savez_compressed`
 * write): entries stored (method 0) or deflated (method 8), zip64 sizes and offsets included. Sizes come
 * from the central directory, so entries written with a data descriptor are read too. Anything else —
 * encryption, another compression method, an entry running past the end — is a one-line error naming
 * `what`. Returns the entries by name, in directory order.
 */
export function readZipEntries(bytes: Uint8Array, what: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number): number => Number(view.getBigUint64(at, true));
  const fail = (why: string): never => {
    throw new Error(`${what}: not a readable .npz (zip) archive: ${why}`);
  };
  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (u32(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-directory record');
  let count = u16(eocd + 10);
  let dirOffset = u32(eocd + 16);
  if (count === 0xffff || dirOffset === MAX32) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) fail('zip64 locator missing');
    const z64 = u64(locator + 8);
    if (z64 + 56 > bytes.length || u32(z64) !== ZIP64_EOCD) fail('zip64 directory record missing');
    count = u64(z64 + 32);
    dirOffset = u64(z64 + 48);
  }
  const out = new Map<string, Uint8Array>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || u32(at) !== CENTRAL) fail(`directory entry ${i} is damaged`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let local = u32(at + 42);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    // Zip64 extra field (id 1): the 64-bit values of the 32-bit fields that read 0xffffffff, in order.
    let extra = at + 46 + nameLen;
    const extraEnd = extra + extraLen;
    while (extra + 4 <= extraEnd) {
      const id = u16(extra);
      const len = u16(extra + 2);
      if (id === 1) {
        let p = extra + 4;
        if (size === MAX32) {
          size = u64(p);
          p += 8;
        }
        if (compressed === MAX32) {
          compressed = u64(p);
          p += 8;
        }
        if (local === MAX32) local = u64(p);
      }
      extra += 4 + len;
    }
    at = extraEnd + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) fail(`entry ${name} is encrypted`);
    if (local + 30 > bytes.length || u32(local) !== LOCAL) fail(`entry ${name} has no local header`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > bytes.length) fail(`entry ${name} runs past the end of the file`);
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch {
        return fail(`entry ${name} does not inflate`);
      }
    } else return fail(`entry ${name} uses compression method ${method} (only stored and deflate are read)`);
    if (data.length !== size) fail(`entry ${name} has ${data.length} bytes, the directory says ${size}`);
    out.set(name, data);
  }
  return out;
}
