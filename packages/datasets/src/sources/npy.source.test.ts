import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSource } from '@engram/core';
import { build, experiencesOf, pass, testServices } from '../testing/support.js';
import { npyDescriptor } from './npy.source.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'npy');
const classIL = { type: 'class-incremental', classesPerExperience: 1, shuffleClasses: false };
const defaults = { arrays: { x: 'x', y: 'y' }, testFraction: 0.25, scenario: classIL };

test('x.npy + y.npy become 3 class-incremental experiences of [2, 3, 1] images (a channel axis added), values unscaled', async () => {
  const source = build<DataSource>(npyDescriptor, { ...defaults, x: 'x.npy', y: 'y.npy' }, testServices(1, fixtures));
  const info = await source.describe();
  assert.deepEqual(info.inputShape, [2, 3, 1]);
  assert.equal(info.numClasses, 3);
  const exps = await experiencesOf(source);
  assert.deepEqual(
    exps.map((e) => e.classes),
    [[0], [1], [2]],
  );
  // 4 samples per class, a quarter held out: 3 train + 1 test each.
  assert.deepEqual(
    exps.map((e) => [e.train.size, e.test?.size]),
    [
      [3, 1],
      [3, 1],
      [3, 1],
    ],
  );
  const rows = (await pass(exps[1]?.train)).concat(await pass(exps[1]?.test));
  const xs = rows.flatMap((b) => [...b.x]);
  // Class 1 is samples 1, 4, 7, 10; sample s holds (6s .. 6s+5) / 8.
  const firsts = xs.filter((_, i) => i % 6 === 0).sort((a, b) => a - b);
  assert.deepEqual(firsts, [6 / 8, 24 / 8, 42 / 8, 60 / 8]);
});

test('an .npz with named arrays is read, uint8-free float64 features kept as they are', async () => {
  const source = build<DataSource>(
    npyDescriptor,
    { ...defaults, npz: 'deflated.npz', arrays: { x: 'features', y: 'labels' } },
    testServices(1, fixtures),
  );
  const info = await source.describe();
  assert.deepEqual(info.inputShape, [4]);
  assert.equal(info.numClasses, 2);
  const exps = await experiencesOf(source);
  const all = [...(await pass(exps[0]?.train)), ...(await pass(exps[0]?.test))];
  const sum = all.reduce((s, b) => s + b.x.reduce((a, v) => a + v, 0), 0);
  // Class 0 = even rows 0,2,4,6,8: sum of 0.25 * (4r .. 4r+3) over them = 0.25 * (16 * 20 + 5 * 6) = 87.5.
  assert.equal(sum, 87.5);
});

test('a missing file, array or a layout mistake is a problem at its /data pointer', async () => {
  const check = npyDescriptor.check;
  assert.ok(check);
  const context = { baseDir: fixtures, path: '/data' };
  assert.deepEqual(await check({ ...defaults, x: 'x.npy', y: 'nope.npy' }, context), [
    { path: '/data/y', message: `no such file: ${join(fixtures, 'nope.npy')}` },
  ]);
  assert.deepEqual(await check({ ...defaults, npz: 'stored.npz', arrays: { x: 'features', y: 'targets' } }, context), [
    { path: '/data/arrays/y', message: 'stored.npz holds no array named "targets"' },
  ]);
  assert.equal((await check({ ...defaults, x: 'x.npy' }, context))[0]?.path, '/data/y');
  assert.equal((await check({ ...defaults, npz: 'stored.npz', x: 'x.npy' }, context))[0]?.path, '/data/npz');
  assert.deepEqual(await check({ ...defaults, x: 'x.npy', y: 'y.npy' }, context), []);
});

test('a Fortran-ordered file fails the load with its name and the fix', async () => {
  const source = build<DataSource>(
    npyDescriptor,
    { ...defaults, x: 'fortran.npy', y: 'y.npy' },
    testServices(1, fixtures),
  );
  await assert.rejects(
    source.describe(),
    /fortran\.npy: Fortran-ordered arrays are not supported \(save np\.ascontiguousarray/,
  );
});
