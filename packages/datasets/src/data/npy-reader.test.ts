import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { parseNpy, readNpy, readNpz } from './npy-reader.js';
import { readZipEntries } from './zip-reader.js';

// Fixtures written by NumPy 1.24 (fixtures/npy/make-fixtures.py, committed).
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'npy');
const at = (name: string): string => join(fixtures, name);

test('every supported dtype NumPy wrote reads back as the values 0..5 in shape [2, 3]', async () => {
  for (const dtype of ['float32', 'float64', 'uint8', 'int32', 'int64'] as const) {
    const a = await readNpy(at(`${dtype}.npy`));
    assert.equal(a.dtype, dtype);
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual([...a.data], [0, 1, 2, 3, 4, 5], dtype);
  }
});

test('x.npy holds 12 float32 samples of 2x3 equal to index / 8, y.npy int64 labels index mod 3', async () => {
  const x = await readNpy(at('x.npy'));
  const y = await readNpy(at('y.npy'));
  assert.deepEqual(x.shape, [12, 2, 3]);
  assert.equal(x.data.length, 72);
  x.data.forEach((v, i) => assert.equal(v, i / 8));
  assert.deepEqual(
    [...y.data],
    Array.from({ length: 12 }, (_, i) => i % 3),
  );
});

test('stored and deflated .npz archives give the same named arrays', async () => {
  const stored = await readNpz(at('stored.npz'));
  const deflated = await readNpz(at('deflated.npz'));
  assert.deepEqual([...stored.keys()].sort(), ['features', 'labels']);
  assert.deepEqual([...deflated.keys()].sort(), ['features', 'labels', 'tasks']);
  for (const arrays of [stored, deflated]) {
    const f = arrays.get('features');
    assert.equal(f?.dtype, 'float64');
    assert.deepEqual(f?.shape, [10, 4]);
    assert.equal(f?.data[39], 39 * 0.25);
    assert.deepEqual(
      [...(arrays.get('labels')?.data ?? [])],
      Array.from({ length: 10 }, (_, i) => i % 2),
    );
  }
  assert.deepEqual([...(deflated.get('tasks')?.data ?? [])], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
});

test('Fortran order, object arrays and big-endian data are refused with a one-line reason', async () => {
  await assert.rejects(readNpy(at('fortran.npy')), /fortran\.npy: Fortran-ordered arrays are not supported/);
  await assert.rejects(readNpy(at('object.npy')), /object\.npy: object arrays are not supported/);
  await assert.rejects(readNpy(at('big-endian.npy')), /dtype >f4 is not supported \(big-endian/);
  await assert.rejects(readNpy(at('missing.npy')), /missing\.npy: no such file/);
});

test('a truncated .npy or a damaged archive is an error naming it, not a crash', () => {
  const bytes = new Uint8Array(readFileSync(at('float64.npy')));
  assert.throws(() => parseNpy(bytes.subarray(0, bytes.length - 8), 'cut.npy'), /cut\.npy: truncated/);
  assert.throws(() => parseNpy(new Uint8Array(20), 'zeros.npy'), /zeros\.npy: not a \.npy file/);
  const zip = new Uint8Array(readFileSync(at('deflated.npz')));
  assert.throws(() => readZipEntries(zip.subarray(0, zip.length - 30), 'cut.npz'), /cut\.npz: not a readable/);
  const garbled = zip.slice();
  garbled.fill(0, 60, 200); // inside the first deflated entry
  assert.throws(() => readZipEntries(garbled, 'bad.npz'), /bad\.npz: .*entry features\.npy/);
});

test('the zip reader inflates a deflated entry to exactly the bytes that went in', () => {
  // A minimal archive built by hand: one deflated entry, no data descriptor.
  const payload = new TextEncoder().encode('engram '.repeat(50));
  const body = deflateRawSync(payload);
  const name = new TextEncoder().encode('a.txt');
  const local = new Uint8Array(30 + name.length);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(8, 8, true);
  lv.setUint32(18, body.length, true);
  lv.setUint32(22, payload.length, true);
  lv.setUint16(26, name.length, true);
  local.set(name, 30);
  const central = new Uint8Array(46 + name.length);
  const cv = new DataView(central.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint16(10, 8, true);
  cv.setUint32(20, body.length, true);
  cv.setUint32(24, payload.length, true);
  cv.setUint16(28, name.length, true);
  cv.setUint32(42, 0, true);
  central.set(name, 46);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, central.length, true);
  ev.setUint32(16, local.length + body.length, true);
  const zip = Buffer.concat([local, body, central, end]);
  const entries = readZipEntries(new Uint8Array(zip), 'hand.zip');
  assert.deepEqual([...entries.keys()], ['a.txt']);
  assert.equal(new TextDecoder().decode(entries.get('a.txt')), 'engram '.repeat(50));
});
