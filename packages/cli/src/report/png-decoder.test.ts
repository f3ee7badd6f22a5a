import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { decodePng } from './png-decoder.js';

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]);
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Encodes rows of `channels`-byte pixels with the given filter per row (PNG spec forward filters). */
function encode(width: number, rows: number[][], channels: 3 | 4, filters: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(rows.length, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 4 ? 6 : 2;
  const raw: number[] = [];
  rows.forEach((row, y) => {
    const f = filters[y] ?? 0;
    raw.push(f);
    row.forEach((x, i) => {
      const a = i >= channels ? (row[i - channels] ?? 0) : 0;
      const b = y > 0 ? (rows[y - 1]?.[i] ?? 0) : 0;
      const c = y > 0 && i >= channels ? (rows[y - 1]?.[i - channels] ?? 0) : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f] ?? 0;
      raw.push((x - pred) & 0xff);
    });
  });
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(raw))), chunk('IEND', new Uint8Array(0))]);
}

test('RGB rows with every filter type decode to the original pixels as RGBA', () => {
  const rows = [
    [10, 20, 30, 200, 100, 50],
    [11, 250, 3, 0, 255, 128],
    [90, 80, 70, 60, 50, 40],
    [1, 2, 3, 250, 251, 252],
    [255, 0, 255, 7, 7, 7],
  ];
  const img = decodePng(encode(2, rows, 3, [0, 1, 2, 3, 4]));
  assert.equal(img.width, 2);
  assert.equal(img.height, 5);
  const expected = rows.flatMap((r) => [r[0], r[1], r[2], 255, r[3], r[4], r[5], 255]);
  assert.deepEqual([...img.data], expected);
});

test('RGBA keeps the alpha channel', () => {
  const img = decodePng(encode(1, [[1, 2, 3, 4], [5, 6, 7, 8]], 4, [4, 4]));
  assert.deepEqual([...img.data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('non-PNG input and unsupported flavours are rejected clearly', () => {
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), /not a PNG file/);
  const png = encode(1, [[0, 0, 0]], 3, [0]);
  png[24] = 16; // bit depth byte of IHDR
  assert.throws(() => decodePng(png), /unsupported PNG: bit depth 16/);
});
