import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Batch, type BatchSource, type Experience } from '@engram/core';
import { firstValueFrom, toArray } from 'rxjs';
import { mnistDescriptor } from './mnist.source.js';
import type { DataSource } from '@engram/core';

const services = (seed: number) => ({
  rng: new Rng(seed),
  seed,
  baseDir: '.',
  events: { emit: () => undefined },
  path: '/data',
});

async function collect(source: BatchSource): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of source.batches({ batchSize: 256, shuffle: false, epoch: 0, seed: 1 })) out.push(b);
  return out;
}

/** Hash of every image of a source (row contents), to compare train and test sets. */
async function rowKeys(source: BatchSource): Promise<{ keys: string[]; labels: number[] }> {
  const keys: string[] = [];
  const labels: number[] = [];
  for (const b of await collect(source)) {
    const len = b.x.length / b.y.length;
    for (let i = 0; i < b.y.length; i++) {
      keys.push(Buffer.from(b.x.buffer, b.x.byteOffset + i * len * 4, len * 4).toString('base64'));
      labels.push(b.y[i] as number);
    }
  }
  return { keys, labels };
}

function create(seed: number, options: Record<string, unknown>): DataSource {
  const defaults = {
    scenario: { type: 'class-incremental', experiences: 5, shuffleClasses: false },
    testFraction: 0.2,
    flatten: false,
  };
  return mnistDescriptor.create?.({ ...defaults, ...options }, services(seed)) as DataSource;
}

test('mnist class-incremental gives 5 experiences of 2 digits with disjoint, exactly split train and test sets', async () => {
  const source = create(7, {});
  const info = await source.describe();
  assert.deepEqual(info.inputShape, [28, 28, 1]);
  assert.equal(info.numClasses, 10);
  assert.equal(info.experiences, 5);
  const exps: Experience[] = await firstValueFrom(source.experiences().pipe(toArray()));
  assert.deepEqual(
    exps.map((e) => e.classes),
    [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
    ],
  );
  const perDigit = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
  let total = 0;
  for (const e of exps) {
    const train = await rowKeys(e.train);
    const test = await rowKeys(e.test as BatchSource);
    assert.deepEqual([...new Set(train.labels)].sort(), e.classes);
    assert.deepEqual([...new Set(test.labels)].sort(), e.classes);
    for (const c of e.classes) {
      const n = perDigit[c] as number;
      assert.equal(test.labels.filter((l) => l === c).length, Math.round(n * 0.2));
      assert.equal(train.labels.filter((l) => l === c).length, n - Math.round(n * 0.2));
    }
    const trainSet = new Set(train.keys);
    const overlap = test.keys.filter((k) => trainSet.has(k)).length;
    assert.equal(overlap, 0);
    total += train.labels.length + test.labels.length;
  }
  assert.equal(total, 10000);
});

test('mnist splits are a pure function of the seed', async () => {
  const labelsOf = async (seed: number) => {
    const exps = await firstValueFrom(create(seed, { limitPerClass: 50 }).experiences().pipe(toArray()));
    return (await rowKeys(exps[0]?.test as BatchSource)).keys.join('|');
  };
  assert.equal(await labelsOf(3), await labelsOf(3));
  assert.notEqual(await labelsOf(3), await labelsOf(4));
});

test('mnist flatten gives [784] samples and limitPerClass caps each digit', async () => {
  const source = create(1, {
    flatten: true,
    limitPerClass: 10,
    scenario: { type: 'class-incremental', classesPerExperience: 5 },
  });
  const info = await source.describe();
  assert.deepEqual(info.inputShape, [784]);
  assert.equal(info.experiences, 2);
  const exps = await firstValueFrom(source.experiences().pipe(toArray()));
  const first = exps[0] as Experience;
  assert.equal(first.train.size, 5 * 8);
  assert.equal(first.test?.size, 5 * 2);
});
