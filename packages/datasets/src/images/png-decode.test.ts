import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync as zlibInflate } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '@engram/core';
import { encodePng } from './png-encode.js';
import { readPlainPng } from './png-decode.js';

/** Smooth gradients with seeded noise: adaptive filtering then picks every filter type across the rows. */
function pixels(width: number, height: number, channels: 1 | 3, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        const smooth = (x * 7 + y * 3 + c * 40) % 256;
        out[(y * width + x) * channels + c] = y % 3 === 0 ? rng.int(256) : smooth;
      }
  return out;
}

async function sharpPng(width: number, height: number, channels: 1 | 3, seed: number): Promise<Buffer> {
  const img = sharp(Buffer.from(pixels(width, height, channels, seed)), { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img)
    .png({ adaptiveFiltering: true, compressionLevel: 9 })
    .toBuffer();
}

test('grey and RGB PNGs written by libvips with adaptive filtering read back byte for byte as libvips decodes them', async () => {
  const filters = new Set<number>();
  for (const [w, h, c, seed] of [
    [28, 28, 1, 1],
    [32, 32, 3, 2],
    [33, 17, 3, 3],
    [5, 40, 1, 4],
  ] as const) {
    const file = await sharpPng(w, h, c, seed);
    const mine = readPlainPng(file);
    assert.ok(mine, `${w}x${h}x${c} taken`);
    // As decode-image.ts asks libvips for each channel count.
    const vips = c === 1 ? sharp(file).toColourspace('b-w') : sharp(file).removeAlpha().toColourspace('srgb');
    const theirs = await vips.raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(
      [mine.width, mine.height, mine.channels],
      [theirs.info.width, theirs.info.height, theirs.info.channels],
    );
    assert.ok(Buffer.from(mine.data).equals(theirs.data), `${w}x${h}x${c}: same pixels`);
    assert.equal(mine.channels, c, 'written with its own channel count');
    for (const f of filterTypes(file, w * c, h)) filters.add(f);
  }
  assert.deepEqual([...filters].sort(), [0, 1, 2, 3, 4], 'the files used every PNG filter type');
});

test('an unfiltered PNG from the project’s own encoder reads back as written', () => {
  const p = pixels(9, 7, 3, 5);
  const mine = readPlainPng(encodePng(9, 7, 3, p));
  assert.ok(mine && Buffer.from(mine.data).equals(Buffer.from(p)));
});

test('PNGs outside the plain case — alpha, palette, 16-bit, interlaced, a bad CRC, truncated, not a PNG — are left to libvips', async () => {
  const raw = Buffer.from(pixels(16, 16, 3, 6));
  const rgb = { raw: { width: 16, height: 16, channels: 3 as const } };
  const rgba = await sharp(raw, rgb).ensureAlpha().png().toBuffer();
  const palette = await sharp(raw, rgb).png({ palette: true }).toBuffer();
  const deep = await sharp(raw, rgb).toColourspace('rgb16').png().toBuffer();
  const interlaced = await sharp(raw, rgb).png({ progressive: true }).toBuffer();
  const plain = await sharpPng(16, 16, 3, 6);
  const badCrc = Buffer.from(plain);
  badCrc[badCrc.length - 20] = (badCrc[badCrc.length - 20] as number) ^ 0xff; // inside the last IDAT's data
  for (const [what, bytes] of [
    ['rgba', rgba],
    ['palette', palette],
    ['16-bit', deep],
    ['interlaced', interlaced],
    ['bad crc', badCrc],
    ['truncated', plain.subarray(0, plain.length - 30)],
    ['jpeg', await sharp(raw, rgb).jpeg().toBuffer()],
  ] as const)
    assert.equal(readPlainPng(bytes), undefined, what);
  assert.ok(readPlainPng(plain), 'the same image, plain, is taken');
});

/** The filter type byte of each row of a single-IDAT PNG. */
function filterTypes(png: Buffer, stride: number, height: number): number[] {
  const chunks: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = zlibInflate(Buffer.concat(chunks));
  return Array.from({ length: height }, (_, r) => raw[r * (stride + 1)] as number);
}
