import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError, type Batch, type DataSource } from '@engram/core';
import { build, experiencesOf, pass, tempDir, testServices } from '../testing/support.js';
import { csvDescriptor, jsonlDescriptor } from './file.sources.js';
import { npyDescriptor } from './npy.source.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'npy');
const inOrder = { type: 'data-incremental', experiences: 3, order: 'file' };
const csvDefaults = { badRows: 'skip', testFraction: 0.25, header: true, delimiter: ',', scenario: inOrder };
const jsonlDefaults = { badRows: 'skip', testFraction: 0.25, featuresField: 'x', labelField: 'y', scenario: inOrder };
const npyDefaults = { arrays: { x: 'x', y: 'y' }, testFraction: 0.25, scenario: inOrder };

/** Every (features, targets) row of some batches, in order. */
function rowsOf(batches: Batch[], d: number): { x: number[]; t: number[] }[] {
  return batches.flatMap((b) => {
    const t = b.targetValues;
    assert.ok(t, 'the batch carries regression targets');
    const k = t.length / b.y.length;
    return Array.from(b.y, (_, i) => ({
      x: [...b.x.subarray(i * d, (i + 1) * d)],
      t: [...t.subarray(i * k, (i + 1) * k)],
    }));
  });
}

/** 24 rows `a, b, price, tax` with price = 3a - b + 1 and tax = a / 2 (a = row index). */
function linearCsv(): string {
  const lines = ['a,b,price,tax'];
  for (let r = 0; r < 24; r++) lines.push(`${r},${r % 5},${3 * r - (r % 5) + 1},${r / 2}`);
  return lines.join('\n') + '\n';
}

test('csv targetColumns make a regression source: features are the other columns, targets the named ones, chunks in file order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), linearCsv());
    const source = build<DataSource>(
      csvDescriptor,
      { ...csvDefaults, path: 'd.csv', targetColumns: ['price', 'tax'] },
      testServices(1, dir),
    );
    const info = await source.describe();
    assert.equal(info.regression, true);
    assert.equal(info.numClasses, 2, 'two targets, two outputs');
    assert.deepEqual(info.inputShape, [2]);
    const exps = await experiencesOf(source);
    assert.equal(exps.length, 3);
    const seen: number[] = [];
    for (const [i, e] of exps.entries()) {
      assert.deepEqual(e.classes, []);
      const rows = rowsOf([...(await pass(e.train)), ...(await pass(e.test))], 2);
      // rows 8i..8i+7 of the file, train + test; every target is the function of its features
      assert.deepEqual(
        rows.map((r) => r.x[0]).sort((a, b) => (a ?? 0) - (b ?? 0)),
        [0, 1, 2, 3, 4, 5, 6, 7].map((r) => 8 * i + r),
      );
      for (const r of rows) {
        const [a = NaN, b = NaN] = r.x;
        assert.deepEqual(r.t, [3 * a - b + 1, a / 2]);
        seen.push(a);
      }
    }
    assert.equal(new Set(seen).size, 24, 'every row once');
  } finally {
    cleanup();
  }
});

test('a csv row whose target is not a finite number is a bad row named by its line and column', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), 'a,b,price\n1,2,3\n4,5,NaN\n6,7,\n8,9,1e999\n10,11,12\n');
    const services = testServices(1, dir);
    const source = build<DataSource>(
      csvDescriptor,
      {
        ...csvDefaults,
        scenario: { type: 'data-incremental', experiences: 1 },
        path: 'd.csv',
        targetColumns: ['price'],
      },
      services,
    );
    const [exp] = await experiencesOf(source);
    const rows = rowsOf([...(await pass(exp?.train)), ...(await pass(exp?.test))], 2);
    assert.deepEqual(
      rows.map((r) => r.t[0]).sort((a, b) => (a ?? 0) - (b ?? 0)),
      [3, 12],
    );
    const rejected = JSON.stringify(services.emitted);
    assert.match(rejected, /skipped 3 bad row\(s\) at line\(s\) 3, 4, 5/);
    const letters = (await import('node:fs'))
      .readFileSync(join(dir, 'd.csv.rejected.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      letters.map((l) => {
        const { line, reason } = JSON.parse(l) as { line: number; reason: string };
        return `${line}: ${reason}`;
      }),
      [
        '3: target column 3 ("price") is not a finite number: "NaN"',
        '4: target column 3 ("price") is not a finite number: ""',
        '5: target column 3 ("price") is not a finite number: "1e999"',
      ],
    );
    const failing = build<DataSource>(
      csvDescriptor,
      {
        ...csvDefaults,
        scenario: { type: 'data-incremental', experiences: 1 },
        path: 'd.csv',
        targetColumns: [2],
        badRows: 'fail',
      },
      testServices(1, dir),
    );
    await assert.rejects(failing.describe(), /d\.csv:3: target column 3 \("price"\) is not a finite number: "NaN"/);
  } finally {
    cleanup();
  }
});

test('jsonl targetField reads a number or an array of numbers; a non-finite or missing target is a bad row naming the field', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lines = [
      ...Array.from({ length: 9 }, (_, r) => JSON.stringify({ x: [r, 1], v: [2 * r, -r] })),
      JSON.stringify({ x: [9, 1], v: [1, 'a'] }),
      JSON.stringify({ x: [10, 1] }),
      JSON.stringify({ x: [11, 1], v: [1] }),
    ];
    writeFileSync(join(dir, 'd.jsonl'), lines.join('\n') + '\n');
    const services = testServices(1, dir);
    const source = build<DataSource>(
      jsonlDescriptor,
      { ...jsonlDefaults, path: 'd.jsonl', targetField: 'v' },
      services,
    );
    const info = await source.describe();
    assert.equal(info.regression, true);
    assert.equal(info.numClasses, 2);
    const exps = await experiencesOf(source);
    const rows = (
      await Promise.all(exps.map(async (e) => rowsOf([...(await pass(e.train)), ...(await pass(e.test))], 2)))
    ).flat();
    assert.equal(rows.length, 9);
    for (const r of rows) assert.deepEqual(r.t, [2 * (r.x[0] ?? NaN), 0 - (r.x[0] ?? NaN)]);
    const letters = (await import('node:fs')).readFileSync(join(dir, 'd.jsonl.rejected.jsonl'), 'utf8');
    assert.match(letters, /"line":10,.*target field \\"v\\"\[1\] is not a finite number: \\"a\\"/);
    assert.match(letters, /"line":11,.*field \\"v\\" is missing/);
    assert.match(letters, /"line":12,.*field \\"v\\" has 1 targets, expected 2/);

    writeFileSync(
      join(dir, 'one.jsonl'),
      Array.from({ length: 8 }, (_, r) => JSON.stringify({ x: [r], price: r * 0.5 })).join('\n'),
    );
    const single = build<DataSource>(
      jsonlDescriptor,
      { ...jsonlDefaults, path: 'one.jsonl', targetField: 'price' },
      testServices(1, dir),
    );
    assert.equal((await single.describe()).numClasses, 1);
  } finally {
    cleanup();
  }
});

test('target columns cannot be read beside a label column nor cut by class: refused at their pointer', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), linearCsv());
    const csv = { ...csvDefaults, path: 'd.csv', targetColumns: ['price'] };
    assert.throws(
      () => build<DataSource>(csvDescriptor, { ...csv, labelColumn: 'tax' }, testServices(1, dir)),
      (e: unknown) => e instanceof PipelineError && /\/data\/labelColumn/.test(JSON.stringify(e.problems)),
    );
    const check = csvDescriptor.check;
    assert.ok(check);
    const context = { baseDir: dir, path: '/data' };
    assert.equal((await check({ ...csv, labelColumn: 'tax' }, context))[0]?.path, '/data/labelColumn');
    assert.deepEqual(await check({ ...csv, scenario: { type: 'sequential' } }, context), []);
    assert.match(
      (await check({ ...csv, scenario: { type: 'class-incremental', experiences: 2 } }, context))[0]?.message ?? '',
      /scenario "class-incremental" cuts the data by class, but targetColumns makes a regression source/,
    );
    assert.deepEqual(await check({ ...csv, targetColumns: ['price', 'cost'] }, context), [
      { path: '/data/targetColumns/1', message: 'd.csv has no column "cost" (its header: a, b, price, tax)' },
    ]);
    assert.deepEqual(await check(csv, context), []);
  } finally {
    cleanup();
  }
});

test('class-cut scenarios are refused over regression targets with the scenarios that apply', async () => {
  const source = build<DataSource>(
    npyDescriptor,
    { ...npyDefaults, npz: 'regression.npz', scenario: { type: 'class-incremental', classesPerExperience: 1 } },
    testServices(1, fixtures),
  );
  await assert.rejects(source.describe(), /scenario "class-incremental" cuts the data by class.*"data-incremental"/);
});

test('npy float y of shape [n] and [n, k] are regression targets, in file order or in seeded domains', async () => {
  const one = build<DataSource>(npyDescriptor, { ...npyDefaults, npz: 'regression.npz' }, testServices(1, fixtures));
  const info = await one.describe();
  assert.equal(info.regression, true);
  assert.equal(info.numClasses, 1);
  const exps = await experiencesOf(one);
  // 60 rows = 3 chunks of 20; chunk i holds rows 20i..20i+19, where x1 = floor(r / 10) / 6
  for (const [i, e] of exps.entries()) {
    const rows = rowsOf([...(await pass(e.train)), ...(await pass(e.test))], 2);
    assert.equal(rows.length, 20);
    assert.deepEqual([...new Set(rows.map((r) => Math.round((r.x[1] ?? NaN) * 6)))].sort(), [2 * i, 2 * i + 1]);
    for (const r of rows) assert.ok(Math.abs((r.t[0] ?? NaN) - (2 * (r.x[0] ?? NaN) - (r.x[1] ?? NaN) + 0.5)) < 1e-6);
  }
  const two = build<DataSource>(
    npyDescriptor,
    {
      ...npyDefaults,
      npz: 'regression2.npz',
      scenario: { type: 'domain-incremental', transform: 'permutation', experiences: 2 },
    },
    testServices(1, fixtures),
  );
  assert.equal((await two.describe()).numClasses, 2);
  const [first, second] = await experiencesOf(two);
  const a = rowsOf(await pass(first?.train), 2);
  const b = rowsOf(await pass(second?.train), 2);
  assert.deepEqual(
    a.map((r) => r.t),
    b.map((r) => r.t),
    'the same rows and targets in every domain',
  );
  for (const r of a) assert.ok(Math.abs((r.t[1] ?? NaN) - 0.5 * (r.x[1] ?? NaN)) < 1e-6);
});

test('a NaN target in y.npy is refused with its file, row and column', async () => {
  const source = build<DataSource>(
    npyDescriptor,
    { ...npyDefaults, x: 'reg-x.npy', y: 'nan-target.npy' },
    testServices(1, fixtures),
  );
  await assert.rejects(
    source.describe(),
    /^Error: nan-target\.npy: the target at row 7, column 0 is NaN, not a finite float32$/,
  );
});

test('data-incremental order "group" makes one experience per value of a group field or column, in order of first appearance', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // 3 sites interleaved, 8 records each; the target's function depends on the site
    const sites = ['north', 'south', 'east'];
    const records = Array.from({ length: 24 }, (_, r) => {
      const site = sites[r % 3] as string;
      return JSON.stringify({ x: [r], site, v: (r % 3) * 100 + r });
    });
    writeFileSync(join(dir, 'd.jsonl'), records.join('\n'));
    const byGroup = { type: 'data-incremental', experiences: 3, order: 'group' };
    const source = build<DataSource>(
      jsonlDescriptor,
      { ...jsonlDefaults, path: 'd.jsonl', targetField: 'v', groupField: 'site', scenario: byGroup },
      testServices(1, dir),
    );
    const exps = await experiencesOf(source);
    assert.deepEqual(
      exps.map((e) => e.name),
      ['group north', 'group south', 'group east'],
    );
    for (const [g, e] of exps.entries()) {
      const rows = rowsOf([...(await pass(e.train)), ...(await pass(e.test))], 1);
      assert.equal(rows.length, 8);
      assert.equal((e.test?.size ?? 0) > 0, true, 'each group tests on its own held-out rows');
      for (const r of rows) {
        assert.equal((r.x[0] ?? NaN) % 3, g);
        assert.deepEqual(r.t, [g * 100 + (r.x[0] ?? NaN)]);
      }
    }
    writeFileSync(
      join(dir, 'd.csv'),
      ['a,site,y', ...Array.from({ length: 12 }, (_, r) => `${r},${sites[r % 3]},${r}`)].join('\n'),
    );
    const csv = { ...csvDefaults, path: 'd.csv', targetColumns: ['y'], groupColumn: 'site' };
    const two = build<DataSource>(
      csvDescriptor,
      { ...csv, scenario: { ...byGroup, experiences: 2 } },
      testServices(1, dir),
    );
    await assert.rejects(two.describe(), /the data has 3 groups \(north, south, east\), but experiences is 2/);
    const three = build<DataSource>(csvDescriptor, { ...csv, scenario: byGroup }, testServices(1, dir));
    assert.deepEqual((await three.describe()).inputShape, [1], 'the group column is not a feature');
    const check = csvDescriptor.check;
    assert.ok(check);
    assert.deepEqual(await check({ ...csv, groupColumn: 'city', scenario: byGroup }, { baseDir: dir, path: '/data' }), [
      { path: '/data/groupColumn', message: 'd.csv has no column "city" (its header: a, site, y)' },
    ]);
  } finally {
    cleanup();
  }
});

test('engram validate refuses a class-cut scenario over a float y at /data/scenario, before any training', async () => {
  const check = npyDescriptor.check;
  assert.ok(check);
  const context = { baseDir: fixtures, path: '/data' };
  const classIL = { type: 'class-incremental', classesPerExperience: 1 };
  const [problem] = await check({ ...npyDefaults, npz: 'regression.npz', scenario: classIL }, context);
  assert.equal(problem?.path, '/data/scenario');
  assert.match(problem?.message ?? '', /^y is float64 \(regression targets\), but scenario "class-incremental" cuts/);
  assert.deepEqual(await check({ ...npyDefaults, x: 'reg-x.npy', y: 'nan-target.npy', scenario: classIL }, context), [
    { path: '/data/scenario', message: problem?.message },
  ]);
  assert.deepEqual(await check({ ...npyDefaults, npz: 'regression.npz' }, context), []);
  assert.deepEqual(await check({ ...npyDefaults, x: 'x.npy', y: 'y.npy', scenario: classIL }, context), []);
});
