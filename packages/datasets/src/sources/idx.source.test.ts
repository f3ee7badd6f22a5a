import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DataSource } from '@engram/core';
import { encodeIdx, parseIdx } from '../data/idx-reader.js';
import { build, experiencesOf, pass, tempDir, testServices } from '../testing/support.js';
import { fashionMnistDescriptor } from './fashion-mnist.source.js';
import { idxDescriptor } from './idx.source.js';

const classIL = { type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false };

test('IDX parsing reads dims and values of raw and gzip files alike, and rejects bad magic', () => {
  const raw = encodeIdx([2, 3], [1, 2, 3, 250, 0, 7]);
  for (const bytes of [raw, gzipSync(raw)]) {
    const a = parseIdx(bytes);
    assert.deepEqual(a.dims, [2, 3]);
    assert.equal(a.type, 'ubyte');
    assert.deepEqual([...a.data], [1, 2, 3, 250, 0, 7]);
  }
  const f = parseIdx(encodeIdx([2], [1.5, -2.25], 'float'));
  assert.deepEqual([...f.data], [1.5, -2.25]);
  assert.throws(() => parseIdx(Buffer.from([1, 2, 3, 4])), /not an IDX file/);
  assert.throws(() => parseIdx(raw.subarray(0, 12)), /truncated/);
});

test('the idx source pairs gz images and raw labels, scales bytes to 0..1 and splits by class', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const n = 8;
    const pixels = Array.from({ length: n * 4 }, (_, i) => (i * 17) % 256);
    writeFileSync(join(dir, 'img.idx.gz'), gzipSync(encodeIdx([n, 2, 2], pixels)));
    writeFileSync(join(dir, 'lab.idx'), encodeIdx([n], [0, 1, 2, 3, 0, 1, 2, 3]));
    const source = build<DataSource>(
      idxDescriptor,
      { trainImages: 'img.idx.gz', trainLabels: 'lab.idx', scenario: classIL, testFraction: 0.5 },
      testServices(1, dir),
    );
    const info = await source.describe();
    assert.deepEqual(info.inputShape, [2, 2, 1]);
    assert.equal(info.numClasses, 4);
    const exps = await experiencesOf(source);
    assert.deepEqual(
      exps.map((e) => e.classes),
      [
        [0, 1],
        [2, 3],
      ],
    );
    const b = (await pass(exps[0]?.train))[0];
    assert.equal(b?.y.length, 2);
    for (const v of b?.x ?? []) assert.ok(v >= 0 && v <= 1);
    assert.equal(exps[0]?.test?.size, 2);
  } finally {
    cleanup();
  }
});

test('fashion-mnist names the apt package when its files are missing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const source = build<DataSource>(
      fashionMnistDescriptor,
      { dir, flatten: false, scenario: classIL },
      testServices(),
    );
    await assert.rejects(source.describe(), /apt-get install dataset-fashion-mnist/);
  } finally {
    cleanup();
  }
});

test(
  'fashion-mnist loads the installed IDX files with the official train/test split',
  { skip: !existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') },
  async () => {
    const source = build<DataSource>(
      fashionMnistDescriptor,
      {
        dir: '/usr/share/datasets/fashion-mnist',
        limit: 2000,
        flatten: false,
        scenario: { type: 'class-incremental', experiences: 5, shuffleClasses: false },
      },
      testServices(),
    );
    const info = await source.describe();
    assert.deepEqual(info.inputShape, [28, 28, 1]);
    assert.equal(info.classNames?.[9], 'Ankle boot');
    const exps = await experiencesOf(source);
    assert.equal(exps.length, 5);
    const trainTotal = exps.reduce((s, e) => s + (e.train.size ?? 0), 0);
    const testTotal = exps.reduce((s, e) => s + (e.test?.size ?? 0), 0);
    assert.equal(trainTotal, 2000);
    assert.equal(testTotal, 2000);
    for (const e of exps)
      for (const b of await pass(e.test, 500)) for (const c of b.y) assert.ok(e.classes.includes(c));
  },
);
