/**
 * TFRecord framing (what TensorBoard event files are made of): each record is
 * `uint64 LE length | uint32 LE masked CRC-32C(length bytes) | data | uint32 LE masked CRC-32C(data)`.
 * Pure functions over buffers; no I/O.
 */

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: `((crc >>> 15) | (crc << 17)) + 0xa282ead8`, as uint32. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Frames one record (length, masked CRC of the length, data, masked CRC of the data). */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length + 16);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/**
 * Splits a TFRecord file into its records' data, checking both CRCs of each. A truncated last record
 * (a writer killed mid-write) ends the list; a CRC mismatch throws, naming the record's byte offset.
 */
export function readRecords(file: Buffer, name = 'file'): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at + 12 <= file.length) {
    const len = Number(file.readBigUInt64LE(at));
    if (file.readUInt32LE(at + 8) !== maskedCrc32c(file.subarray(at, at + 8)))
      throw new Error(`${name}: record at byte ${at} has a bad length CRC`);
    if (at + 16 + len > file.length) break;
    const data = file.subarray(at + 12, at + 12 + len);
    if (file.readUInt32LE(at + 12 + len) !== maskedCrc32c(data))
      throw new Error(`${name}: record at byte ${at} has a bad data CRC`);
    records.push(data);
    at += 16 + len;
  }
  return records;
}
