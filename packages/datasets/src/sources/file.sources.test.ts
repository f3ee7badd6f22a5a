import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { gc } from '../testing/gc.js';
import type { DataSource } from '@engram/core';
import { build, experiencesOf, pass, tempDir, testServices } from '../testing/support.js';
import { csvDescriptor, jsonlDescriptor } from './file.sources.js';

const csvDefaults = {
  badRows: 'skip',
  testFraction: 0.25,
  header: true,
  delimiter: ',',
  scenario: { type: 'sequential' },
};
const jsonlDefaults = {
  badRows: 'skip',
  testFraction: 0.25,
  featuresField: 'x',
  labelField: 'y',
  scenario: { type: 'sequential' },
};

// Line 1 header; bad rows at lines 4 (arity), 6 (non-numeric), 8 (unknown label).
const CSV = [
  'a,b,label',
  '1,2,cat',
  '3,4,dog',
  '5,cat',
  '7,8,cat',
  '9,x,dog',
  '11,12,dog',
  '13,14,bird',
  '15,16,cat',
  '',
].join('\n');

test('csv sequential streams valid rows in file order and reports bad rows with their line numbers', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), CSV);
    const services = testServices(1, dir);
    const source = build<DataSource>(
      csvDescriptor,
      { ...csvDefaults, path: 'd.csv', labels: ['cat', 'dog'] },
      services,
    );
    const info = await source.describe();
    assert.deepEqual(info.inputShape, [2]);
    assert.equal(info.numClasses, 2);
    assert.equal(info.experiences, 'endless');
    const [exp] = await experiencesOf(source);
    const batches = await pass(exp?.train, 2);
    assert.deepEqual(
      batches.map((b) => b.y.length),
      [2, 2, 1],
    );
    assert.deepEqual(
      batches.flatMap((b) => [...b.x]),
      [1, 2, 3, 4, 7, 8, 11, 12, 15, 16],
    );
    assert.deepEqual(
      batches.flatMap((b) => [...b.y]),
      [0, 1, 0, 1, 0],
    );
    const warning = services.emitted.find((e) => e.type === 'warning');
    assert.match(warning?.type === 'warning' ? warning.message : '', /skipped 3 bad row\(s\) at line\(s\) 4, 6, 8/);
    const dead = readFileSync(join(dir, 'd.csv.rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    assert.deepEqual(
      dead.map((d) => d.line),
      [4, 6, 8],
    );
    assert.match(dead[0]?.reason ?? '', /expected 3 columns, got 2/);
    assert.match(dead[1]?.reason ?? '', /not a number/);
    assert.match(dead[2]?.reason ?? '', /unknown label/);
  } finally {
    cleanup();
  }
});

test('csv with badRows "fail" stops at the first bad row naming file and line', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), CSV);
    const source = build<DataSource>(
      csvDescriptor,
      { ...csvDefaults, badRows: 'fail', path: 'd.csv', labels: ['cat', 'dog'] },
      testServices(1, dir),
    );
    const [exp] = await experiencesOf(source);
    await assert.rejects(pass(exp?.train, 2), /d\.csv:4: expected 3 columns/);
  } finally {
    cleanup();
  }
});

test('csv without header, with a delimiter, chosen columns and gzip, loads into a class-incremental scenario', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 4};${i};${i * 2};ignored`).join('\n');
    writeFileSync(join(dir, 'd.csv.gz'), gzipSync(rows));
    const source = build<DataSource>(
      csvDescriptor,
      {
        ...csvDefaults,
        header: false,
        delimiter: ';',
        labelColumn: 0,
        featureColumns: [2, 1],
        path: 'd.csv.gz',
        scenario: { type: 'class-incremental', experiences: 2, shuffleClasses: false },
      },
      testServices(1, dir),
    );
    const info = await source.describe();
    assert.deepEqual(info.inputShape, [2]);
    assert.equal(info.numClasses, 4);
    const exps = await experiencesOf(source);
    // 10 rows per class, round(10 * 0.25) = 3 held out per class.
    assert.deepEqual(
      exps.map((e) => [e.train.size, e.test?.size]),
      [
        [14, 6],
        [14, 6],
      ],
    );
    const b = (await pass(exps[0]?.train, 100))[0];
    for (let i = 0; i < (b?.y.length ?? 0); i++) {
      assert.equal(b?.x[i * 2], (b?.x[i * 2 + 1] ?? 0) * 2);
      assert.ok([0, 1].includes(b?.y[i] ?? -1));
    }
  } finally {
    cleanup();
  }
});

test('csv fields may be quoted, holding delimiters, quotes and line breaks; bad rows keep their first line number', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // Lines: 1 header, 2-3 a record whose note spans two lines, 4 a record with "" quotes, 5 wrong arity,
    // 6 malformed quoting (a quote inside an unquoted field), 7 a plain record.
    const text = [
      'a,b,note,label',
      '1,2,"first line',
      'second, with a comma",cat',
      '3,4,"say ""hi""",dog',
      '5,cat',
      '7,8,bad"quote,cat',
      '9,10,plain,dog',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'd.csv'), text);
    const services = testServices(1, dir);
    const source = build<DataSource>(
      csvDescriptor,
      { ...csvDefaults, path: 'd.csv', labels: ['cat', 'dog'], featureColumns: ['a', 'b'] },
      services,
    );
    const [exp] = await experiencesOf(source);
    const batches = await pass(exp?.train, 10);
    assert.deepEqual([...(batches[0]?.x ?? [])], [1, 2, 3, 4, 9, 10]);
    assert.deepEqual([...(batches[0]?.y ?? [])], [0, 1, 1]);
    const dead = readFileSync(join(dir, 'd.csv.rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    assert.deepEqual(
      dead.map((d) => d.line),
      [5, 6],
    );
    assert.match(dead[0]?.reason ?? '', /expected 4 columns, got 2/);
    assert.match(dead[1]?.reason ?? '', /malformed CSV/);
    const warning = services.emitted.find((e) => e.type === 'warning');
    assert.ok(warning?.type === 'warning' && warning.skippedRows === 2, JSON.stringify(warning));
  } finally {
    cleanup();
  }
});

test('a loaded csv holds its skipped-rows warning until the run asks for the experiences', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), CSV);
    const services = testServices(1, dir);
    const source = build<DataSource>(
      csvDescriptor,
      {
        ...csvDefaults,
        path: 'd.csv',
        labels: ['cat', 'dog'],
        scenario: { type: 'class-incremental', experiences: 2, shuffleClasses: false },
      },
      services,
    );
    await source.describe();
    assert.equal(services.emitted.length, 0, 'nobody listens to the run while it is described');
    await experiencesOf(source);
    assert.deepEqual(
      services.emitted.map((e) => (e.type === 'warning' ? e.skippedRows : e.type)),
      [3],
    );
  } finally {
    cleanup();
  }
});

test('csv "sequential" without numClasses or labels is refused with a clear message', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.csv'), 'a,label\n1,0\n');
    const source = build<DataSource>(csvDescriptor, { ...csvDefaults, path: 'd.csv' }, testServices(1, dir));
    await assert.rejects(source.describe(), /give "numClasses" or "labels"/);
  } finally {
    cleanup();
  }
});

test('jsonl counts invalid JSON, wrong lengths and unknown labels by line and carries task labels', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lines = [
      '{"x":[1,2],"y":0,"t":0}',
      '{"x":[1,2,3],"y":1,"t":0}',
      'not json',
      '{"x":[5,6],"y":7,"t":1}',
      '{"x":[7,8],"y":1,"t":1}',
    ];
    writeFileSync(join(dir, 'd.jsonl'), `${lines.join('\n')}\n`);
    const services = testServices(1, dir);
    const source = build<DataSource>(
      jsonlDescriptor,
      { ...jsonlDefaults, path: 'd.jsonl', numClasses: 2, taskField: 't', deadLetter: 'bad.jsonl' },
      services,
    );
    assert.deepEqual((await source.describe()).inputShape, [2]);
    const [exp] = await experiencesOf(source);
    const batches = await pass(exp?.train, 10);
    assert.deepEqual([...(batches[0]?.x ?? [])], [1, 2, 7, 8]);
    assert.deepEqual([...(batches[0]?.task ?? [])], [0, 1]);
    const dead = readFileSync(join(dir, 'bad.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { line: number }).line);
    assert.deepEqual(dead, [2, 3, 4]);
  } finally {
    cleanup();
  }
});

test('a clean file creates no dead-letter file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'd.jsonl'), '{"x":[1],"y":0}\n{"x":[2],"y":1}\n');
    const source = build<DataSource>(
      jsonlDescriptor,
      { ...jsonlDefaults, path: 'd.jsonl', numClasses: 2 },
      testServices(1, dir),
    );
    const [exp] = await experiencesOf(source);
    assert.equal((await pass(exp?.train)).length, 1);
    assert.equal(existsSync(join(dir, 'd.jsonl.rejected.jsonl')), false);
  } finally {
    cleanup();
  }
});

test('streaming a 40 MB csv keeps memory bounded (the file is never loaded whole)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'big.csv');
    const out = createWriteStream(file);
    const row = `${Array.from({ length: 20 }, (_, i) => (i * 0.123456).toFixed(6)).join(',')},3\n`;
    const rows = Math.ceil((40 * 1024 * 1024) / row.length);
    for (let i = 0; i < rows; i++) if (!out.write(row)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(() => r()));
    const source = build<DataSource>(
      csvDescriptor,
      { ...csvDefaults, header: false, path: file, numClasses: 4 },
      testServices(1, dir),
    );
    const [exp] = await experiencesOf(source);
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let count = 0;
    for await (const b of exp?.train.batches({ batchSize: 256, shuffle: false, epoch: 0, seed: 0 }) ?? []) {
      count += b.y.length;
      if (count % 51200 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    assert.equal(count, rows);
    const growthMb = (peak - before) / 1024 / 1024;
    // Loading the file would keep > 40 MB of text (or ~7 MB of floats per 100k rows) alive.
    assert.ok(growthMb < 4, `live heap grew by ${growthMb.toFixed(1)} MB while streaming a 40 MB file`);
  } finally {
    cleanup();
  }
});
