import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filter, from, lastValueFrom, map, mergeMap, of, toArray, type OperatorFunction } from 'rxjs';
import type { Batch } from '../data/batch.js';
import type { Experience } from '../data/experience.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { guardStage, makeGuardedStage } from './guarded-stage.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage, StageRun } from '../plugin-api/stage.js';

const experience = { index: 0 } as unknown as Experience;
const batch = (n: number): Batch => ({ x: new Float32Array(n * 3), sampleShape: [3], y: new Int32Array(n) });
const items = (): RunItem[] => [
  { seq: 0, kind: 'run-start', resumed: false, continued: false },
  { seq: 1, kind: 'batch', experience, epoch: 0, batches: 2, batch: batch(4) },
  { seq: 2, kind: 'batch', experience, epoch: 0, batches: 2, batch: batch(2) },
  { seq: 3, kind: 'run-end' },
];
const run = {} as StageRun;

function through(
  op: OperatorFunction<RunItem, RunItem> | (() => unknown),
  extra: Partial<Stage> = {},
): Promise<RunItem[]> {
  const stage = { name: 'id-audit', operator: () => op, ...extra } as Stage;
  const guarded = guardStage(stage, 'id-audit', '/stages/0');
  return lastValueFrom(from(items()).pipe(guarded.operator(run), toArray()));
}

test('a guarded stage that keeps the contract passes every item, a copy with the same seq included', async () => {
  const out = await through(map((i) => ({ ...i })));
  assert.deepEqual(
    out.map((i) => i.seq),
    [0, 1, 2, 3],
  );
});

test('a plugin stage that breaks the contract fails with one line naming its kind and pointer', async () => {
  const broken: Array<[string, OperatorFunction<RunItem, RunItem> | (() => unknown), RegExp]> = [
    [
      'non-item',
      map((i) => (i.kind === 'batch' ? (7 as unknown as RunItem) : i)),
      /emitted a number, which is not a run item/,
    ],
    ['twice', mergeMap((i) => (i.seq === 1 ? of(i, i) : of(i))), /emitted item 1 \(batch\) twice/],
    ['dropped, then completed', filter((i) => i.seq !== 2), /emitted item 3 \(run-end\) before item 2/],
    [
      'shortened x',
      map((i) => (i.kind === 'batch' ? { ...i, batch: { ...i.batch, x: i.batch.x.subarray(1) } } : i)),
      /item 1 \(batch\): its batch has 11 x values for 4 samples of shape \[3\] \(needs 12\)/,
    ],
    [
      'reshaped',
      map((i) => (i.kind === 'batch' ? { ...i, batch: { ...i.batch, sampleShape: [1, 3] } } : i)),
      /changed the sample shape from \[3\] to \[1,3\]/,
    ],
    [
      'null batch',
      map((i) => (i.kind === 'batch' ? ({ ...i, batch: null } as unknown as RunItem) : i)),
      /item 1 \(batch\): its batch is null/,
    ],
    [
      'kind changed',
      map((i) => (i.seq === 3 ? ({ seq: 3, kind: 'run-start' } as RunItem) : i)),
      /turned item 3 from "run-end" into "run-start"/,
    ],
    [
      'error thrown non-Error',
      map(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a plugin throwing a non-Error is the case under test
        throw { code: 7 };
      }),
      /threw or rejected with a non-Error value: \{"code":7\}/,
    ],
    ['no observable', () => 5, /its operator returned number, not an Observable/],
  ];
  for (const [what, op, says] of broken) {
    await assert.rejects(through(op), (e: unknown) => {
      assert.ok(e instanceof Error, what);
      assert.match(e.message, /^stage "id-audit" \(\/stages\/0\): /, what);
      assert.match(e.message, says, what);
      assert.ok(!e.message.includes('\n'), what);
      return true;
    });
  }
});

test('operator(run) returning null or throwing is named; a creation that throws becomes a stage that fails when the run starts', () => {
  const stage = (operator: () => unknown): Stage =>
    guardStage({ name: 'a', operator } as Stage, 'id-audit', '/stages/1');
  assert.throws(
    () => stage(() => null).operator(run),
    /StageError: stage "id-audit" \(\/stages\/1\): operator\(run\) returned null/,
  );
  assert.throws(
    () =>
      stage(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a plugin throwing a string is the case under test
        throw 'boom';
      }).operator(run),
    /stage "id-audit" \(\/stages\/1\): boom$/,
  );
  const failing = makeGuardedStage(
    () => {
      throw new TypeError('no such file');
    },
    'id-audit',
    '/stages/2',
  );
  assert.equal(failing.name, 'id-audit');
  assert.throws(() => failing.operator(run), /stage "id-audit" \(\/stages\/2\): creation failed: no such file/);
  assert.throws(
    () =>
      makeGuardedStage(
        () => {
          throw PipelineError.at('/stages/2/x', 'bad option');
        },
        'k',
        '/stages/2',
      ),
    PipelineError,
  );
  assert.throws(
    () => makeGuardedStage(() => ({ name: 3 }), 'k', '/stages/0').operator(run),
    /does not implement Stage/,
  );
});

test('state() must return JSON meta and well-formed arrays: BigInt, cycles, NaN and bad arrays are named', async () => {
  const withState = (state: () => unknown): Stage & { state(): Promise<unknown> } =>
    guardStage(
      { name: 'a', operator: () => map((i: RunItem) => i), state } as Stage,
      'id-audit',
      '/stages/0',
    ) as Stage & {
      state(): Promise<unknown>;
    };
  const circular: Record<string, unknown> = {};
  circular['self'] = { back: circular };
  const bad: Array<[unknown, RegExp]> = [
    [{ meta: { n: 1n } }, /meta\/n is a BigInt/],
    [{ meta: circular }, /meta\/self\/back is circular/],
    [{ meta: [1, NaN] }, /meta\/1 is NaN/],
    [{ meta: { f: () => 1 } }, /meta\/f is a function/],
    [{ arrays: { w: { dtype: 'float32', shape: [2], data: [1, 2] } } }, /arrays\.w\.data must be a Float32Array/],
    [
      { arrays: { w: { dtype: 'int32', shape: [2, 2], data: new Int32Array(3) } } },
      /arrays\.w\.data has 3 values for shape \[2, 2\] \(needs 4\)/,
    ],
    [
      { arrays: { w: { dtype: 'int32', shape: [-1], data: new Int32Array(0) } } },
      /arrays\.w\.shape must be an array of non-negative integers/,
    ],
    [{ arrays: [] }, /"arrays" that is not an object/],
    [null, /state\(\) returned null/],
  ];
  for (const [value, says] of bad)
    await assert.rejects(withState(() => value).state(), (e: unknown) => {
      assert.match((e as Error).message, /^stage "id-audit" \(\/stages\/0\): state\(\) /);
      assert.match((e as Error).message, says);
      return true;
    });
  const good = {
    meta: { a: [1, 'x', null, { b: true }] },
    arrays: { w: { dtype: 'float32', shape: [2], data: new Float32Array(2) } },
  };
  assert.deepEqual(await withState(() => good).state(), good);
});
