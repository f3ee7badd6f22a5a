import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch, DataSource } from '@engram/core';
import { encodePng } from '../images/png-encode.js';
import { build, experiencesOf, pass, tempDir, testServices } from '../testing/support.js';
import { imageFolderDescriptor, type ImageFolderSource } from './image-folder.source.js';

const defaults = {
  channels: 'grayscale',
  threads: 2,
  prefetch: 2,
  cache: false,
  scale: 1 / 255,
  testFraction: 0.25,
  scenario: { type: 'class-incremental', classesPerExperience: 1, shuffleClasses: false },
};

/** Pixel value of image `i` of class `c`: every pixel of a 4x4 image holds it (decoded exactly by PNG). */
const value = (c: number, i: number): number => c * 60 + i * 5;

/** Writes `root/<name>/<i>.png` for the given classes, `perClass` images each. */
function writeTree(root: string, classes: readonly string[], perClass: number): void {
  classes.forEach((name, c) => {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++)
      writeFileSync(join(root, name, `${i}.png`), encodePng(4, 4, 1, new Uint8Array(16).fill(value(c, i))));
  });
}

const bytesOf = (b: Batch): number[] =>
  Array.from({ length: b.y.length }, (_, k) => Math.round((b.x[k * 16] ?? 0) * 255));

test('class ids come from sorted folder names and every pixel decodes to byte / 255', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeTree(dir, ['cat', 'ant', 'bee'], 4); // sorted: ant=0, bee=1, cat=2
    const source = build<ImageFolderSource>(imageFolderDescriptor, { ...defaults, root: '.' }, testServices(1, dir));
    const info = await source.describe();
    assert.deepEqual(info.inputShape, [4, 4, 1]);
    assert.deepEqual(info.classNames, ['ant', 'bee', 'cat']);
    const exps = await experiencesOf(source);
    assert.deepEqual(
      exps.map((e) => [e.classes, e.train.size, e.test?.size]),
      [
        [[0], 3, 1],
        [[1], 3, 1],
        [[2], 3, 1],
      ],
    );
    // "cat" was written as class index 0 of the tree: its values are 0, 5, 10, 15.
    const cat = [...(await pass(exps[2]?.train)), ...(await pass(exps[2]?.test))];
    assert.deepEqual(
      cat.flatMap(bytesOf).sort((a, b) => a - b),
      [0, 5, 10, 15],
    );
    for (const b of cat) b.x.forEach((v, i) => assert.equal(v, b.x[i - (i % 16)]));
    assert.equal(source.stats.decoded, 4);
    await source.close();
  } finally {
    cleanup();
  }
});

test('a corrupt image is skipped with one warning naming it, every epoch, and counted once', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeTree(dir, ['a', 'b'], 5);
    writeFileSync(join(dir, 'a', '2.png'), Buffer.from('this is not a png'));
    const services = testServices(3, dir);
    const source = build<ImageFolderSource>(
      imageFolderDescriptor,
      { ...defaults, root: '.', scenario: { type: 'domain-incremental', experiences: 1, transform: 'permutation' } },
      services,
    );
    const [exp] = await experiencesOf(source);
    let rows = 0;
    for (let epoch = 0; epoch < 2; epoch++)
      for await (const b of exp?.train.batches({ batchSize: 3, shuffle: true, epoch, seed: 5 }) ?? [])
        rows += b.y.length;
    const inTrain = exp?.train.size ?? 0;
    const corruptInTrain = rows === 2 * (inTrain - 1);
    assert.ok(corruptInTrain || rows === 2 * inTrain, `rows ${rows} of ${inTrain}`);
    if (!corruptInTrain) await pass(exp?.test); // the corrupt file was held out: read it there
    const warnings = services.emitted.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match((warnings[0] as { message: string }).message, /a\/2\.png: unreadable image skipped/);
    assert.equal(source.stats.unreadable, 1);
    await source.close();
  } finally {
    cleanup();
  }
});

test('an empty class folder or a missing root is an error at /data/root, before any decode', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeTree(dir, ['a', 'b'], 2);
    mkdirSync(join(dir, 'empty'));
    const check = imageFolderDescriptor.check;
    assert.ok(check);
    const context = { baseDir: dir, path: '/data' };
    const [problem] = await check({ ...defaults, root: '.' }, context);
    assert.equal(problem?.path, '/data/root');
    assert.match(problem?.message ?? '', /class folder .*empty holds no image/);
    assert.equal(
      (await check({ ...defaults, root: 'nowhere' }, context))[0]?.message,
      `no such folder: ${join(dir, 'nowhere')}`,
    );
    const source = build<DataSource>(imageFolderDescriptor, { ...defaults, root: '.' }, testServices(1, dir));
    await assert.rejects(source.describe(), /empty holds no image/);
  } finally {
    cleanup();
  }
});

test('train/ and test/ sub-folders are the split; a CSV manifest gives labels and task ids', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeTree(join(dir, 'tree', 'train'), ['x', 'y'], 3);
    writeTree(join(dir, 'tree', 'test'), ['x', 'y'], 2);
    const split = build<ImageFolderSource>(imageFolderDescriptor, { ...defaults, root: 'tree' }, testServices(1, dir));
    const exps = await experiencesOf(split);
    assert.deepEqual(
      exps.map((e) => [e.train.size, e.test?.size]),
      [
        [3, 2],
        [3, 2],
      ],
    );
    await split.close();
    const lines = ['path,label,task'];
    for (const c of ['x', 'y'])
      for (let i = 0; i < 3; i++) lines.push(`tree/train/${c}/${i}.png,${c},${c === 'x' ? 0 : 1}`);
    writeFileSync(join(dir, 'list.csv'), lines.join('\n'));
    const listed = build<ImageFolderSource>(
      imageFolderDescriptor,
      { ...defaults, manifest: 'list.csv', testFraction: 0.34, scenario: { type: 'data-incremental', experiences: 1 } },
      testServices(1, dir),
    );
    const [all] = await experiencesOf(listed);
    const batches = [...(await pass(all?.train)), ...(await pass(all?.test))];
    const pairs = batches.flatMap((b) => [...b.y].map((y, k) => [y, b.task?.[k]]));
    assert.equal(pairs.length, 6);
    for (const [y, task] of pairs) assert.equal(task, y);
    await listed.close();
  } finally {
    cleanup();
  }
});

test('resize and centerCrop give every image one shape; RGB keeps three channels', async () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(join(dir, 'c'));
    // 6x4 RGB image: left half red, right half blue
    const px = new Uint8Array(6 * 4 * 3);
    for (let r = 0; r < 4; r++)
      for (let col = 0; col < 6; col++) px.set(col < 3 ? [255, 0, 0] : [0, 0, 255], (r * 6 + col) * 3);
    writeFileSync(join(dir, 'c', 'wide.png'), encodePng(6, 4, 3, px));
    writeFileSync(join(dir, 'c', 'small.png'), encodePng(2, 2, 3, new Uint8Array(12).fill(128)));
    const source = build<ImageFolderSource>(
      imageFolderDescriptor,
      {
        ...defaults,
        channels: 'rgb',
        root: '.',
        resize: [4, 4],
        centerCrop: 2,
        scenario: { type: 'data-incremental', experiences: 1 },
        testFraction: 0.5,
      },
      testServices(1, dir),
    );
    assert.deepEqual((await source.describe()).inputShape, [2, 2, 3]);
    const [e] = await experiencesOf(source);
    const rows = [...(await pass(e?.train)), ...(await pass(e?.test))];
    assert.equal(
      rows.reduce((n, b) => n + b.y.length, 0),
      2,
    );
    for (const b of rows) assert.equal(b.x.length, 12);
    await source.close();
  } finally {
    cleanup();
  }
});

test('scenario.only over an image folder trains experiences first..last and keeps the others evaluate-only, cut as in the whole scenario', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeTree(dir, ['a', 'b', 'c', 'd'], 4);
    const whole = build<ImageFolderSource>(imageFolderDescriptor, { ...defaults, root: '.' }, testServices(1, dir));
    const ranged = build<ImageFolderSource>(
      imageFolderDescriptor,
      { ...defaults, root: '.', scenario: { ...defaults.scenario, only: { first: 1, last: 2 } } },
      testServices(1, dir),
    );
    const all = await experiencesOf(whole);
    const some = await experiencesOf(ranged);
    assert.deepEqual(
      some.map((e) => [e.index, e.classes, e.evaluateOnly === true]),
      [
        [0, [0], true],
        [1, [1], false],
        [2, [2], false],
        [3, [3], true],
      ],
    );
    // the same images in the same train/test halves as the whole scenario, decoded from disk
    for (const [i, e] of some.entries()) {
      const w = all[i];
      assert.deepEqual((await pass(e.train)).flatMap(bytesOf), (await pass(w?.train)).flatMap(bytesOf));
      assert.deepEqual((await pass(e.test)).flatMap(bytesOf), (await pass(w?.test)).flatMap(bytesOf));
    }
    // experience 2 is class "c": its images hold 120, 125, 130, 135 (three to train, one to test)
    const c = [...(await pass(some[2]?.train)), ...(await pass(some[2]?.test))].flatMap(bytesOf);
    assert.deepEqual(
      c.sort((a, b) => a - b),
      [0, 1, 2, 3].map((i) => value(2, i)),
    );
    await whole.close();
    await ranged.close();
  } finally {
    cleanup();
  }
});
