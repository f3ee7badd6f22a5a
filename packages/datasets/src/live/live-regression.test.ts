import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Batch, DataSource } from '@engram/core';
import { build, experiencesOf, pass, tempDir, testServices } from '../testing/support.js';
import { csvDescriptor } from '../sources/file.sources.js';
import { checkRecord } from './record-check.js';
import { createJsonlFollow } from './follow.source.js';
import { createJsonlStdin } from './stdin.source.js';

const live = { inputShape: [2], featuresField: 'x', labelField: 'y', buffer: 16, targetField: 'price' };

/** Every batch of an endless source until it ends. */
async function drain(source: DataSource): Promise<Batch[]> {
  const [exp] = await experiencesOf(source);
  const out: Batch[] = [];
  for await (const b of exp?.train.batches({ batchSize: 4, shuffle: false, epoch: 0, seed: 0 }) ?? []) out.push(b);
  return out;
}

test('a live record with targetField carries its targets (a bare number or targetCount of them) and no label', () => {
  const one = { inputShape: [2], numClasses: 1, target: 'price', targetCount: 1 };
  const r = checkRecord({ x: [1, 2], price: 4.5 }, one);
  assert.ok(typeof r !== 'string');
  assert.deepEqual([...(r.t ?? [])], [4.5]);
  assert.equal(r.y, 0);
  const two = { ...one, numClasses: 2, targetCount: 2 };
  const both = checkRecord({ x: [1, 2], price: [1.5, -2] }, two);
  assert.ok(typeof both !== 'string');
  assert.deepEqual([...(both.t ?? [])], [1.5, -2]);
  assert.equal(checkRecord({ x: [1, 2], price: [1] }, two), 'field "price" has 1 targets, expected 2 (targetCount)');
  assert.equal(checkRecord({ x: [1, 2], y: 3 }, one), 'field "price" is missing');
  assert.equal(checkRecord({ x: [1, 2], price: '3' }, one), 'target "price" is not a number: "3"');
  assert.equal(checkRecord({ x: [1, 2], price: 1e39 }, one), 'target "price" is not a finite float32 number (1e+39)');
});

test('jsonl-stdin with targetField is a regression stream: batches carry the targets in arrival order, bad targets are skipped', async () => {
  const input = new PassThrough();
  const services = testServices();
  const source = createJsonlStdin({ ...live, policy: 'block', badRows: 'skip' }, services, input);
  const info = await source.describe();
  assert.equal(info.regression, true);
  assert.equal(info.numClasses, 1, 'one target, one output');
  for (let i = 0; i < 10; i++) input.write(`{"x":[${i},1],"price":${2 * i + 1}}\n`);
  input.write('{"x":[0,1],"price":null}\n');
  input.end();
  const batches = await drain(source);
  const targets = batches.flatMap((b) => [...(b.targetValues ?? [])]);
  assert.deepEqual(targets, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  assert.deepEqual((await experiencesOf(source))[0]?.classes, []);
  assert.ok(services.emitted.some((e) => e.type === 'warning' && /bad line 11: target "price"/.test(e.message)));
  await source.close();
});

test('a journalled regression stdin stream writes its targets to the journal and replays them after a restore', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const o = { ...live, targetCount: 2, policy: 'block' as const, badRows: 'skip' as const, journal: 'in.journal' };
    const input = new PassThrough();
    const first = createJsonlStdin(o, testServices(1, dir), input);
    for (let i = 0; i < 6; i++) input.write(`{"x":[${i},0.5],"price":[${i},${-i}]}\n`);
    input.end();
    const all = await drain(first);
    assert.deepEqual(
      all.flatMap((b) => [...(b.targetValues ?? [])]),
      [0, 0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5],
    );
    await first.close();
    const lines = readFileSync(join(dir, 'in.journal'), 'utf8').split('\n');
    assert.equal(lines[2], '{"x":[2,0.5],"y":0,"t":[2,-2]}');
    // a resumed source after the first 4 records replays the last two with their targets
    const offset = lines.slice(0, 4).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const again = createJsonlStdin(o, testServices(1, dir), new PassThrough());
    again.restore({ delivered: 4, feed: { offset, line: 4 } });
    const [exp] = await experiencesOf(again);
    const ac = new AbortController();
    const replayed: number[] = [];
    for await (const b of exp?.train.batches({ batchSize: 2, shuffle: false, epoch: 0, seed: 0, signal: ac.signal }) ??
      []) {
      replayed.push(...(b.targetValues ?? []));
      if (replayed.length >= 4) ac.abort();
    }
    assert.deepEqual(replayed, [4, -4, 5, -5]);
    await again.close();
  } finally {
    cleanup();
  }
});

test('jsonl-follow with targetField and a csv streamed "sequential" with targetColumns both yield targets in file order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(
      join(dir, 'feed.jsonl'),
      Array.from({ length: 8 }, (_, i) => `{"x":[${i},${i % 3}],"price":${i * 0.5}}\n`).join(''),
    );
    const follow = createJsonlFollow(
      { ...live, path: 'feed.jsonl', fromStart: true, pollMs: 10, policy: 'block' },
      testServices(1, dir),
    );
    assert.equal((await follow.describe()).regression, true);
    const [exp] = await experiencesOf(follow);
    const ac = new AbortController();
    const got: number[] = [];
    for await (const b of exp?.train.batches({ batchSize: 4, shuffle: false, epoch: 0, seed: 0, signal: ac.signal }) ??
      []) {
      got.push(...(b.targetValues ?? []));
      if (got.length >= 8) ac.abort();
    }
    assert.deepEqual(got, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
    await follow.close();

    writeFileSync(join(dir, 'd.csv'), `a,b,y\n${Array.from({ length: 10 }, (_, i) => `${i},1,${3 * i}`).join('\n')}\n`);
    const csv = build<DataSource>(
      csvDescriptor,
      {
        path: 'd.csv',
        badRows: 'skip',
        testFraction: 0.25,
        header: true,
        delimiter: ',',
        targetColumns: ['y'],
        scenario: { type: 'sequential' },
      },
      testServices(1, dir),
    );
    const info = await csv.describe();
    assert.equal(info.experiences, 'endless');
    assert.equal(info.regression, true);
    assert.equal(info.numClasses, 1);
    const [stream] = await experiencesOf(csv);
    const rows = await pass(stream?.train, 4);
    assert.deepEqual(
      rows.map((b) => b.y.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      rows.flatMap((b) => [...(b.targetValues ?? [])]),
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27],
    );
  } finally {
    cleanup();
  }
});
