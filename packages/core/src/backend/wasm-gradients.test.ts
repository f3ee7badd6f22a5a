import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { WASM_REWRITTEN_KERNELS, registerWasmGradients } from './wasm-gradients.js';
import { assertClose, compareWithCpu, project, rnd, setUpWasm } from '../testing/wasm-helpers.js';

before(setUpWasm);

const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** [a batch dims, b batch dims]: plain, rank mismatch, 1-vs-n, and n-vs-m broadcasts. */
const BATCHES: Array<[number[], number[]]> = [
  [[], []],
  [[2], []],
  [[1], [3]],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
];

function operandShape(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return transposed ? [...batch, cols, rows] : [...batch, rows, cols];
}

/** Tiles `x`'s batch dims up to `target` (reference path with no broadcasting at all). */
function tileTo(x: tf.Tensor, target: number[]): tf.Tensor {
  const inner = x.shape.slice(-2);
  const batch = x.shape.slice(0, -2);
  const padded = [...new Array<number>(target.length - batch.length).fill(1), ...batch];
  const reshaped = tf.reshape(x, [...padded, ...inner]);
  return tf.tile(reshaped, [...padded.map((d, i) => (target[i] ?? d) / d), 1, 1]);
}

test('BatchMatMul on wasm matches the cpu backend for every transpose flag combination and batch broadcast', async () => {
  const lines: string[] = [];
  for (const [ta, tb] of FLAGS) {
    for (const [ba, bb] of BATCHES) {
      const aShape = operandShape(ba, 3, 4, ta);
      const bShape = operandShape(bb, 4, 5, tb);
      const target = tf.backend_util.assertAndGetBroadcastShape(ba, bb);
      const run = (tile: boolean) => (): tf.Tensor[] => {
        const a = rnd(aShape, 1);
        const b = rnd(bShape, 2);
        const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
          tile ? tf.matMul(tileTo(x, target), tileTo(y, target), ta, tb) : tf.matMul(x, y, ta, tb);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => project(f(x, y)))([a, b]);
        return [f(a, b), ...grads];
      };
      // The cpu backend mis-broadcasts [2,1] x [1,3] batches, so the reference tiles explicitly.
      const diff = await compareWithCpu(run(false), run(true));
      lines.push(assertClose(diff, `matMul ta=${ta} tb=${tb} ${JSON.stringify(aShape)}x${JSON.stringify(bShape)}`));
    }
  }
  console.log(lines.join('\n'));
});

test('fused matMul (bias + activation) on wasm matches the cpu backend with and without transposes', async () => {
  const lines: string[] = [];
  for (const [ta, tb] of FLAGS) {
    for (const activation of ['linear', 'relu'] as const) {
      const diff = await compareWithCpu(() => {
        const a = rnd(ta ? [6, 8] : [8, 6], 3);
        const b = rnd(tb ? [5, 6] : [6, 5], 4);
        const bias = rnd([5], 5);
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor): tf.Tensor =>
          tf.fused.matMul({ a: x, b: y, transposeA: ta, transposeB: tb, bias: z, activation });
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => project(f(x, y, z)))([a, b, bias]);
        return [f(a, b, bias), ...grads];
      });
      lines.push(assertClose(diff, `fused matMul ${activation} ta=${ta} tb=${tb}`));
    }
  }
  console.log(lines.join('\n'));
});

test('a dense network trains on wasm with the same loss curve as on the cpu backend', async () => {
  const diff = await compareWithCpu(() => {
    const w1 = tf.variable(tf.mul(rnd([20, 16], 6), 0.2));
    const w2 = tf.variable(tf.mul(rnd([16, 3], 7), 0.2));
    const x = rnd([32, 20], 8);
    const y = tf.oneHot(
      tf.tensor1d(
        [...Array(32).keys()].map((i) => i % 3),
        'int32',
      ),
      3,
    );
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(x, w1)), w2)), true);
      losses.push(loss?.dataSync()[0] ?? Number.NaN);
    }
    const out = [tf.tensor1d(losses), w1.clone(), w2.clone()];
    opt.dispose();
    w1.dispose();
    w2.dispose();
    return out;
  });
  console.log(assertClose(diff, 'adam on a 20-16-3 MLP, 5 steps (losses and weights)'));
});

test('repeated gradient computations on wasm do not leak tensors or wasm memory', async () => {
  await setUpWasm();
  await tf.setBackend('wasm');
  const x = rnd([2, 8, 8, 3], 10);
  const f = rnd([3, 3, 3, 4], 11);
  const a = rnd([2, 6, 4], 12);
  const b = rnd([4, 5], 13);
  const table = rnd([7, 4], 14);
  const ids = tf.tensor1d([1, 3, 1, 6], 'int32');
  const step = (): void => {
    tf.tidy(() => {
      tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        project(tf.maxPool(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same'), 2, 1, 'same')),
      )([x, f]);
      tf.grads((p: tf.Tensor, q: tf.Tensor) => project(tf.matMul(p, q, false, false)))([a, b]);
      tf.grads((p: tf.Tensor, q: tf.Tensor) => project(tf.matMul(p, q, true, true)))([
        tf.transpose(a, [0, 2, 1]),
        tf.transpose(b),
      ]);
      tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        project(tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid')),
      )([x, rnd([3, 3, 3, 2], 15)]);
      tf.grad((t: tf.Tensor) => project(tf.gather(t, ids)))(table);
      tf.einsum('bij,jk->bik', a, b);
    });
  };
  step();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
  tf.dispose([x, f, a, b, table, ids]);
});

test('registerWasmGradients is idempotent and only touches wasm kernels', async () => {
  await setUpWasm();
  const before = WASM_REWRITTEN_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
  const gradient = tf.getGradient(tf.BatchMatMul)?.gradFunc;
  registerWasmGradients();
  registerWasmGradients();
  const after = WASM_REWRITTEN_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
  assert.ok(before.every((fn) => fn !== undefined));
  assert.deepEqual(after, before);
  assert.equal(tf.getGradient(tf.BatchMatMul)?.gradFunc, gradient);
  assert.equal(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')?.backendName, 'cpu');
});
