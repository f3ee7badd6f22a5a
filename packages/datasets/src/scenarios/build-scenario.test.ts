import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Batch, type BatchSource, type Experience } from '@engram/core';
import type { LabelledData } from '../data/labelled-set.js';
import { buildScenario } from './build-scenario.js';

/** 6 classes x 10 samples of shape [2, 2]; sample value = its row index, so rows are identifiable. */
function tiny(): LabelledData {
  const n = 60;
  const x = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) x.fill(i, i * 4, i * 4 + 4);
  return { train: { x, y: Int32Array.from({ length: n }, (_, i) => i % 6), sampleShape: [2, 2] }, numClasses: 6 };
}

async function all(source: BatchSource | undefined, shuffle = false): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of (source as BatchSource).batches({ batchSize: 7, shuffle, epoch: 0, seed: 5 })) out.push(b);
  return out;
}
const ids = async (s: BatchSource | undefined, shuffle = false) =>
  (await all(s, shuffle)).flatMap((b) => Array.from({ length: b.y.length }, (_, i) => b.x[i * 4] as number));
const labels = async (s: BatchSource | undefined) => (await all(s)).flatMap((b) => [...b.y]);
const settings = (seed: number) => ({ testFraction: 0.2, rng: new Rng(seed) });

test('class-incremental with an explicit class order gives exactly those classes, 8 train and 2 test rows each, disjoint', async () => {
  const s = buildScenario(
    tiny(),
    { type: 'class-incremental', classesPerExperience: 2, classOrder: [5, 0, 3, 1, 2, 4], shuffleClasses: false },
    settings(1),
  );
  assert.equal(s.info.experiences, 3);
  assert.deepEqual(
    s.experiences.map((e) => e.classes),
    [
      [5, 0],
      [3, 1],
      [2, 4],
    ],
  );
  const seen = new Set<number>();
  for (const e of s.experiences) {
    const tr = await ids(e.train);
    const te = await ids(e.test);
    assert.equal(tr.length, 16);
    assert.equal(te.length, 4);
    for (const r of [...tr, ...te]) {
      assert.ok(!seen.has(r), `row ${r} appears twice`);
      seen.add(r);
      assert.ok(e.classes.includes(r % 6));
    }
  }
  assert.equal(seen.size, 60);
});

test('seeded class shuffling is deterministic and differs between seeds', () => {
  const order = (seed: number) =>
    buildScenario(
      tiny(),
      { type: 'class-incremental', experiences: 6, shuffleClasses: true },
      settings(seed),
    ).experiences.map((e) => e.classes[0]);
  assert.deepEqual(order(11), order(11));
  assert.notDeepEqual(order(11), order(12));
  assert.deepEqual([...order(11)].sort(), [0, 1, 2, 3, 4, 5]);
});

test('uneven class counts give earlier experiences the extra class', () => {
  const s = buildScenario(tiny(), { type: 'class-incremental', experiences: 4, shuffleClasses: false }, settings(1));
  assert.deepEqual(
    s.experiences.map((e) => e.classes),
    [[0, 1], [2, 3], [4], [5]],
  );
  assert.throws(
    () => buildScenario(tiny(), { type: 'class-incremental', experiences: 7, shuffleClasses: false }, settings(1)),
    /only 6 classes/,
  );
  assert.throws(
    () =>
      buildScenario(
        tiny(),
        { type: 'class-incremental', classOrder: [9], experiences: 1, shuffleClasses: false },
        settings(1),
      ),
    /class 9/,
  );
});

test('task-incremental exposes the experience index as task label in train and test batches', async () => {
  const s = buildScenario(tiny(), { type: 'task-incremental', experiences: 3, shuffleClasses: false }, settings(1));
  assert.equal(s.info.tasks, 3);
  const e = s.experiences[2] as Experience;
  assert.equal(e.task, 2);
  for (const b of [...(await all(e.train)), ...(await all(e.test))])
    assert.deepEqual([...(b.task ?? [])], new Array(b.y.length).fill(2));
});

test('domain-incremental permutations keep every class, are seeded, and the first experience is the identity', async () => {
  const data = tiny();
  const build = (seed: number) =>
    buildScenario(
      data,
      { type: 'domain-incremental', transform: 'permutation', experiences: 3, firstIdentity: true, maxAngle: 180 },
      settings(seed),
    );
  const a = build(3);
  const b = build(3);
  const c = build(4);
  assert.deepEqual(a.experiences[1]?.classes, [0, 1, 2, 3, 4, 5]);
  // Distinct per-pixel values reveal the permutation.
  const probe = { ...data, train: { ...data.train, x: Float32Array.from({ length: 240 }, (_, i) => i % 4) } };
  const perm = (seed: number, e: number) =>
    all(
      buildScenario(
        probe,
        { type: 'domain-incremental', transform: 'permutation', experiences: 3, firstIdentity: true, maxAngle: 180 },
        settings(seed),
      ).experiences[e]?.train,
    ).then((bs) => [...(bs[0]?.x.subarray(0, 4) ?? [])]);
  assert.deepEqual(await perm(3, 0), [0, 1, 2, 3]);
  assert.deepEqual((await perm(3, 1)).sort(), [0, 1, 2, 3]);
  assert.deepEqual(await perm(3, 2), await perm(3, 2));
  const perms = new Set<string>();
  for (const seed of [3, 4, 5, 6, 7]) perms.add(JSON.stringify(await perm(seed, 1)));
  assert.ok(perms.size > 1, 'different seeds give different permutations');
  assert.deepEqual(await ids(a.experiences[2]?.test), await ids(b.experiences[2]?.test));
  assert.equal(c.experiences.length, 3);
});

test('domain-incremental rotation by 90 degrees moves pixels exactly', async () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const data: LabelledData = { train: { x, y: Int32Array.from([0, 1]), sampleShape: [3, 3, 1] }, numClasses: 2 };
  const s = buildScenario(
    data,
    {
      type: 'domain-incremental',
      transform: 'rotation',
      experiences: 1,
      angles: [90],
      firstIdentity: true,
      maxAngle: 180,
    },
    { testFraction: 0, rng: new Rng(1) },
  );
  const out = (await all(s.experiences[0]?.train))[0]?.x.subarray(0, 9) ?? new Float32Array();
  const rounded = [...out].map((v) => Math.round(v * 1e4) / 1e4);
  // out(r, c) = in(c, 2 - r) for +90 about the centre with this convention, or its mirror for -90.
  const ccw = [3, 6, 9, 2, 5, 8, 1, 4, 7];
  const cw = [7, 4, 1, 8, 5, 2, 9, 6, 3];
  assert.ok(
    JSON.stringify(rounded) === JSON.stringify(ccw) || JSON.stringify(rounded) === JSON.stringify(cw),
    `got ${rounded.join(', ')}`,
  );
});

test('data-incremental cuts the training pool into disjoint IID chunks whose sizes differ by at most one', async () => {
  const s = buildScenario(tiny(), { type: 'data-incremental', experiences: 5 }, settings(2));
  const chunks = await Promise.all(s.experiences.map((e) => ids(e.train)));
  assert.deepEqual(
    chunks.map((c) => c.length),
    [10, 10, 10, 9, 9],
  );
  assert.equal(new Set(chunks.flat()).size, 48);
  const tests = await Promise.all(s.experiences.map((e) => ids(e.test)));
  assert.equal(new Set(tests.flat()).size, 12);
  for (const r of tests.flat()) assert.ok(!chunks.flat().includes(r));
});

test('online abrupt stream visits class segments in order and ignores shuffling', async () => {
  const s = buildScenario(
    tiny(),
    { type: 'online', segments: 3, boundary: 'abrupt', blur: 0.5, shuffleClasses: false },
    settings(4),
  );
  assert.equal(s.info.experiences, 'endless');
  const e = s.experiences[0] as Experience;
  const seq = (await ids(e.train, true)).map((r) => Math.floor((r % 6) / 2));
  assert.equal(seq.length, 48);
  assert.deepEqual(
    seq,
    [...seq].sort((a, b) => a - b),
  );
});

test('online gradual stream blends neighbouring segments but keeps their overall order', async () => {
  const s = buildScenario(
    tiny(),
    { type: 'online', segments: 2, boundary: 'gradual', blur: 1, shuffleClasses: false },
    settings(4),
  );
  const seq = (await labels(s.experiences[0]?.train)).map((c) => (c < 3 ? 0 : 1));
  let inversions = 0;
  for (let i = 1; i < seq.length; i++) if ((seq[i - 1] as number) > (seq[i] as number)) inversions++;
  assert.ok(inversions > 0, 'gradual boundary mixes segments');
  const zerosIn = (from: number, to: number) => seq.slice(from, to).filter((v) => v === 0).length;
  assert.ok(zerosIn(0, 12) >= 10, `first quarter is mostly segment 0 (${zerosIn(0, 12)}/12)`);
  assert.ok(zerosIn(36, 48) <= 2, `last quarter is mostly segment 1 (${zerosIn(36, 48)}/12 from segment 0)`);
});

test('a shuffled pass is a permutation of the unshuffled one and depends on the epoch', async () => {
  const e = buildScenario(tiny(), { type: 'class-incremental', experiences: 1, shuffleClasses: false }, settings(1))
    .experiences[0] as Experience;
  const plain = await ids(e.train);
  const pass = async (epoch: number) => {
    const out: number[] = [];
    for await (const b of e.train.batches({ batchSize: 7, shuffle: true, epoch, seed: 9 }))
      for (let i = 0; i < b.y.length; i++) out.push(b.x[i * 4] as number);
    return out;
  };
  assert.deepEqual(
    [...(await pass(0))].sort((a, b) => a - b),
    [...plain].sort((a, b) => a - b),
  );
  assert.notDeepEqual(await pass(0), await pass(1));
  assert.deepEqual(await pass(1), await pass(1));
});

test(
  'only: experiences outside first..last become evaluate-only, cut exactly as in the whole scenario (indices, ' +
    'classes, rows)',
  async () => {
    const whole = buildScenario(
      tiny(),
      { type: 'class-incremental', experiences: 3, shuffleClasses: true },
      settings(4),
    );
    const part = buildScenario(
      tiny(),
      { type: 'class-incremental', experiences: 3, shuffleClasses: true, only: { first: 1, last: 1 } },
      settings(4),
    );
    assert.deepEqual(part.info, whole.info, 'the scenario is still described whole');
    assert.deepEqual(
      part.experiences.map((e) => [e.index, e.evaluateOnly === true]),
      [
        [0, true],
        [1, false],
        [2, true],
      ],
    );
    for (const [i, e] of part.experiences.entries()) {
      const w = whole.experiences[i] as Experience;
      assert.deepEqual(e.classes, w.classes);
      assert.deepEqual(await ids(e.train, true), await ids(w.train, true));
      assert.deepEqual(await ids(e.test), await ids(w.test));
    }
    const open = buildScenario(
      tiny(),
      {
        type: 'domain-incremental',
        transform: 'permutation',
        experiences: 3,
        firstIdentity: true,
        maxAngle: 180,
        only: { first: 2 },
      },
      settings(4),
    );
    assert.deepEqual(
      open.experiences.map((e) => e.evaluateOnly === true),
      [true, true, false],
      'last defaults to the final experience',
    );
  },
);

test('only with a range outside the scenario is refused with the numbers', () => {
  assert.throws(
    () => buildScenario(tiny(), { type: 'data-incremental', experiences: 3, only: { first: 3 } }, settings(1)),
    /scenario\.only\.first is 3, but the scenario has 3 experiences \(0\.\.2\)/,
  );
  assert.throws(
    () =>
      buildScenario(
        tiny(),
        { type: 'class-incremental', experiences: 3, shuffleClasses: false, only: { first: 2, last: 1 } },
        settings(1),
      ),
    /scenario\.only\.last is 1; it must be between only\.first \(2\) and 2/,
  );
});
