import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rnd, setUpWasm } from '../testing/wasm-helpers.js';

before(setUpWasm);

/** Runs `fn` on the cpu backend and on wasm (Engram's GatherV2) and returns both results' values and shapes. */
async function onBoth(fn: () => tf.Tensor): Promise<{ cpu: tf.TypedArray; wasm: tf.TypedArray; shapes: string[] }> {
  const shapes: string[] = [];
  const run = async (backend: string): Promise<tf.TypedArray> => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const t = fn();
      shapes.push(t.shape.join('x'));
      return t.dataSync().slice();
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { cpu, wasm, shapes };
}

test('gather on wasm copies exactly what the cpu backend gathers, on every axis, for float32 and int32', async () => {
  const cases: Array<[string, () => tf.Tensor]> = [
    [
      'embedding rows (axis 0, 2-D ids)',
      () => tf.gather(rnd([50, 64], 1), tf.tensor2d([3, 49, 0, 3, 7, 7], [2, 3], 'int32')),
    ],
    ['short rows (axis 0, inner 5)', () => tf.gather(rnd([9, 5], 2), tf.tensor1d([8, 0, 4, 4], 'int32'))],
    ['labels (1-D, inner 1)', () => tf.gather(tf.tensor1d([5, 6, 7, 8], 'int32'), tf.tensor1d([3, 3, 0, 2], 'int32'))],
    ['middle axis', () => tf.gather(rnd([3, 6, 40], 3), tf.tensor1d([5, 1, 1], 'int32'), 1)],
    ['last axis', () => tf.gather(rnd([4, 3, 7], 4), tf.tensor1d([6, 0], 'int32'), 2)],
    ['negative axis', () => tf.gather(rnd([4, 7], 5), tf.tensor1d([2, 2, 6], 'int32'), -1)],
  ];
  for (const [label, fn] of cases) {
    const { cpu, wasm, shapes } = await onBoth(fn);
    assert.equal(shapes[0], shapes[1], `${label}: shape`);
    assert.deepEqual(Array.from(wasm), Array.from(cpu), label);
  }
});

test('gather on wasm refuses an index outside the axis with the stock kernel message and leaks no tensor', async () => {
  await setUpWasm();
  await tf.setBackend('wasm');
  const table = rnd([4, 3], 6);
  const before = tf.memory().numTensors;
  assert.throws(() => tf.gather(table, tf.tensor1d([1, 4], 'int32')), /GatherV2: the index value 4 is not in \[0, 3\]/);
  assert.throws(() => tf.gather(table, tf.tensor1d([-1], 'int32')), /the index value -1 is not in \[0, 3\]/);
  // The two index tensors are the caller's to dispose; the kernel itself allocated nothing that stayed.
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose(table);
});

test('an embedding lookup of 4,096 ids returns the table rows the ids name (its time is logged)', async () => {
  await setUpWasm();
  await tf.setBackend('wasm');
  const table = rnd([1000, 64], 7);
  const ids = tf.randomUniform([128, 32], 0, 1000, 'int32', 8);
  const time = (): number => {
    tf.tidy(() => tf.gather(table, ids).dataSync());
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.gather(table, ids).dataSync());
    return (performance.now() - t0) / 5;
  };
  const ours = time();
  const values = tf.tidy(() => tf.gather(table, ids).dataSync().slice());
  // The rows are the table's rows (checked against the host copy of the table).
  const host = table.dataSync();
  const idValues = ids.dataSync();
  for (const r of [0, 1, 4095]) {
    const id = idValues[r] ?? 0;
    assert.deepEqual(
      Array.from(values.subarray(r * 64, r * 64 + 64)),
      Array.from(host.subarray(id * 64, id * 64 + 64)),
    );
  }
  console.log(`embedding lookup [128, 32] of [1000, 64]: ${ours.toFixed(2)} ms`);
  tf.dispose([table, ids]);
});
