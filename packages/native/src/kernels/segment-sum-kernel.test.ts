import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@engram/core';
import { expectSameAsStock, seededTensor, skipNative } from '../testing/backend-harness.js';
import { nativeKernels } from '../index.js';

/** `n` int32 segment ids in [lo, hi), spread and repeated (typed 1-D as tfjs's op declares; the kernel takes any prefix of x's shape). */
function ids(shape: number[], lo: number, hi: number): tf.Tensor1D {
  const n = tf.util.sizeFromShape(shape);
  const t: tf.Tensor = tf.tensor(
    Int32Array.from({ length: n }, (_, i) => lo + ((i * 7919 + 13) % (hi - lo))),
    shape,
    'int32',
  );
  return t as tf.Tensor1D;
}

describe('native UnsortedSegmentSum on the wasm backend', { skip: skipNative }, () => {
  before(async () => {
    // As a run gets it: core's wasm kernel (tfjs-backend-wasm has none) wrapped by the native one.
    const report = await selectBackend('wasm');
    assert.ok(nativeKernels().includes('UnsortedSegmentSum'), report.description);
  });

  const cases: Array<[string, number[], number[], number, number, number]> = [
    ["the GRU bench's embedding gradient: 4,096 rows of 64 into 1,000", [4096, 64], [4096], 1000, 0, 1000],
    ['ids of rank 2 over a rank-3 x', [64, 32, 16], [64, 32], 300, 0, 300],
    ['ids outside [0, numSegments) dropped', [2000, 8], [2000], 50, -5, 60],
  ];
  for (const [label, shape, idShape, segments, lo, hi] of cases) {
    it(`adds the same bits as core's kernel: ${label}`, () => {
      expectSameAsStock(label, ['UnsortedSegmentSum'], () =>
        tf.unsortedSegmentSum(seededTensor(shape, 3), ids(idShape, lo, hi), segments),
      );
    });
  }

  it("gives an embedding's gradient as core's kernel does and leaves no tensor behind", () => {
    const fn = (): tf.Tensor =>
      tf.tidy(() => {
        const w = seededTensor([128, 32, 64], 5);
        const lookup = (table: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.gather(table, ids([128, 32], 0, 1000)), w));
        return tf.grad(lookup)(seededTensor([1000, 64], 6));
      });
    expectSameAsStock('embedding gradient', ['UnsortedSegmentSum'], fn);
    tf.dispose(fn());
    const before = tf.memory().numTensors;
    tf.dispose(fn());
    assert.equal(tf.memory().numTensors, before);
  });
});
