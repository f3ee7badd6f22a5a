import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, compareWithCpu, project, rnd, setUpWasm } from '../testing/wasm-helpers.js';

before(setUpWasm);

test('unsortedSegmentSum on wasm matches the cpu backend and drops out-of-range ids', async () => {
  const diff = await compareWithCpu(() => {
    const ids = tf.tensor1d([0, 2, 2, 1, -1, 0, 5], 'int32');
    return [
      tf.unsortedSegmentSum(rnd([7, 4, 2], 1), ids, 3),
      tf.unsortedSegmentSum(rnd([7], 2), ids, 4),
      tf.cast(tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5, 6, 7], 'int32'), ids, 3), 'float32'),
    ];
  });
  console.log(assertClose(diff, 'unsortedSegmentSum'));
});

test('gather (embedding lookup) gradient on wasm matches the cpu backend', async () => {
  const diff = await compareWithCpu(() => {
    const table = rnd([10, 6], 3);
    const ids = tf.tensor2d(
      [
        [1, 3, 1],
        [9, 0, 3],
      ],
      [2, 3],
      'int32',
    );
    const grads = [0, 1].map((axis) =>
      tf.grad((t: tf.Tensor) => project(tf.gather(t, axis === 0 ? ids : tf.tensor1d([5, 0, 5], 'int32'), axis)))(table),
    );
    return [tf.gather(table, ids), ...grads];
  });
  console.log(assertClose(diff, 'gather gradient (axis 0 and 1)'));
});

test('einsum on wasm matches the cpu backend for matmul, batch, transpose, outer, trace-free reductions', async () => {
  const lines: string[] = [];
  const cases: Array<[string, number[][]]> = [
    [
      'ij,jk->ik',
      [
        [3, 4],
        [4, 5],
      ],
    ],
    [
      'bij,bjk->bik',
      [
        [2, 3, 4],
        [2, 4, 5],
      ],
    ],
    ['ij->ji', [[3, 4]]],
    ['i,i->', [[4], [4]]],
    ['i,j->ij', [[3], [4]]],
    ['ij,j->i', [[3, 4], [4]]],
    [
      'bij,jk->bik',
      [
        [2, 3, 4],
        [4, 5],
      ],
    ],
    [
      'ij,ij->',
      [
        [3, 4],
        [3, 4],
      ],
    ],
  ];
  for (const [equation, shapes] of cases) {
    const diff = await compareWithCpu(() => [tf.einsum(equation, ...shapes.map((s, i) => rnd(s, 20 + i)))]);
    lines.push(assertClose(diff, `einsum ${equation}`));
  }
  console.log(lines.join('\n'));
});

test('einsum on wasm rejects operands whose shared dimensions disagree', async () => {
  await setUpWasm();
  await tf.setBackend('wasm');
  assert.throws(() => tf.einsum('ij,jk->ik', tf.zeros([2, 3]), tf.zeros([4, 5])));
});
