import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertClose, compareWithCpu, project, rnd, setUpWasm } from '../testing/wasm-helpers.js';

before(setUpWasm);

const PADS = ['same', 'valid'] as const;
const STRIDES = [1, 2] as const;
const KERNELS = [3, 5] as const;
/** Non-square input, one even and one odd side, so asymmetric padding and crops both occur. */
const X_SHAPE = [2, 10, 11, 3];

function cases(): Array<{ pad: 'same' | 'valid'; stride: number; k: number }> {
  return PADS.flatMap((pad) => STRIDES.flatMap((stride) => KERNELS.map((k) => ({ pad, stride, k }))));
}

test('Conv2D forward, input and filter gradients on wasm match the cpu backend (same/valid, strides 1/2, kernels 3/5)', async () => {
  const lines: string[] = [];
  for (const { pad, stride, k } of cases()) {
    const diff = await compareWithCpu(() => {
      const x = rnd(X_SHAPE, 1);
      const f = rnd([k, k, 3, 4], 2);
      const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
      return [conv(x, f), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => project(conv(a, b)))([x, f])];
    });
    lines.push(assertClose(diff, `conv2d ${pad} stride ${stride} kernel ${k}`));
  }
  console.log(lines.join('\n'));
});

test('conv2d layers with bias and relu train on wasm like on the cpu backend (fused conv path)', async () => {
  const diff = await compareWithCpu(() => {
    const x = rnd([4, 12, 12, 2], 3);
    const f = rnd([3, 3, 2, 5], 4);
    const bias = rnd([5], 5);
    const conv = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor =>
      tf.fused.conv2d({
        x: a as tf.Tensor4D,
        filter: b as tf.Tensor4D,
        strides: 2,
        pad: 'same',
        bias: c,
        activation: 'relu',
      });
    return [
      conv(x, f, bias),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => project(conv(a, b, c)))([x, f, bias]),
    ];
  });
  console.log(assertClose(diff, 'fused conv2d relu stride 2'));
});

test('depthwise conv2d gradients on wasm match the cpu backend (multipliers 1/2, same/valid, strides 1/2)', async () => {
  const lines: string[] = [];
  for (const { pad, stride, k } of cases()) {
    for (const multiplier of [1, 2]) {
      const diff = await compareWithCpu(() => {
        const x = rnd(X_SHAPE, 6);
        const f = rnd([k, k, 3, multiplier], 7);
        const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
          tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
        return [conv(x, f), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => project(conv(a, b)))([x, f])];
      });
      lines.push(assertClose(diff, `depthwise ${pad} stride ${stride} kernel ${k} x${multiplier}`));
    }
  }
  console.log(lines.join('\n'));
});

test('MaxPool gradient on wasm matches the cpu backend, including ties from relu zeros', async () => {
  const lines: string[] = [];
  const pools: Array<[number, number, 'same' | 'valid']> = [
    [2, 2, 'valid'],
    [2, 2, 'same'],
    [3, 2, 'same'],
    [3, 1, 'valid'],
    [3, 1, 'same'],
  ];
  for (const [size, stride, pad] of pools) {
    const diff = await compareWithCpu(() => {
      const x = tf.relu(rnd(X_SHAPE, 8)); // about half the window entries tie at 0
      const pool = (a: tf.Tensor): tf.Tensor4D => tf.maxPool(a as tf.Tensor4D, size, stride, pad);
      return [pool(x), tf.grad((a: tf.Tensor) => project(pool(a)))(x)];
    });
    lines.push(assertClose(diff, `maxPool ${size}x${size} stride ${stride} ${pad}`));
  }
  console.log(lines.join('\n'));
});

test('a small CNN (conv, maxPool, dense) gets the same Adam updates on wasm as on the cpu backend', async () => {
  const diff = await compareWithCpu(() => {
    const k1 = tf.variable(tf.mul(rnd([3, 3, 1, 4], 9), 0.3));
    const k2 = tf.variable(tf.mul(rnd([3, 3, 4, 6], 10), 0.3));
    const w = tf.variable(tf.mul(rnd([2 * 2 * 6, 3], 11), 0.1));
    const x = rnd([8, 12, 12, 1], 12);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const loss = opt.minimize(() => {
        const h1 = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, k1 as tf.Tensor4D, 1, 'same')), 2, 2, 'valid');
        const h2 = tf.maxPool(tf.relu(tf.conv2d(h1, k2 as tf.Tensor4D, 1, 'valid')), 2, 2, 'same');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(h2, [8, -1]), w));
      }, true);
      losses.push(loss?.dataSync()[0] ?? Number.NaN);
    }
    const out = [tf.tensor1d(losses), k1.clone(), k2.clone(), w.clone()];
    opt.dispose();
    tf.dispose([k1, k2, w]);
    return out;
  });
  console.log(assertClose(diff, 'CNN, 3 Adam steps (losses and weights)'));
});
